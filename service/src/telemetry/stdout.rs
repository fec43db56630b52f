//! Standard output for log lines: lines at `info` and below are gathered per
//! thread and written a few kilobytes at a time, warnings and errors at once.
//!
//! The access log writes a line per request, and a `write(2)` per line was
//! a system call more for every request. Lines at `info` and below (the
//! access log among them) are instead kept in a buffer of the thread
//! that logged them, like nginx's `access_log … buffer= flush=`, and written
//! when the buffer is full or [`FLUSH_EVERY`] has passed, whichever comes
//! first, and when the shop stops ([`Stdout::flush`]). A warning or an error
//! first writes out its thread's buffer, then itself, so that each thread's
//! lines keep their order and a problem is never held back.
//!
//! Every write is at most `PIPE_BUF` bytes and whole lines, which the kernel
//! never interleaves with another writer's on a pipe (what a container's
//! standard output is), a file or a terminal. Longer lines (rare: an error
//! with a long chain of causes) take a lock among themselves.
//!
//! What a crash loses is the last [`FLUSH_EVERY`] of `info` lines; the
//! panic message itself goes to standard error at once.

use std::{
    fs::File,
    io::{self, Write},
    os::fd::AsFd,
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::Duration,
};

use thread_local::ThreadLocal;
use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// `PIPE_BUF` on Linux: writes up to this size are never interleaved.
const ATOMIC_WRITE: usize = 4096;

/// The longest an `info` line waits in its thread's buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Where the shop's log lines go: its standard output.
#[derive(Clone)]
pub struct Stdout {
    inner: Arc<Inner>,
}

struct Inner {
    file: File,
    /// Each thread's `info` lines not yet written.
    pending: ThreadLocal<Mutex<Vec<u8>>>,
    long_lines: Mutex<()>,
}

impl Stdout {
    /// A handle on the process's standard output (a duplicate of fd 1),
    /// with a thread that writes out what waited [`FLUSH_EVERY`].
    pub fn new() -> io::Result<Self> {
        let fd = io::stdout().as_fd().try_clone_to_owned()?;
        let stdout = Self::to(File::from(fd));
        let inner = Arc::downgrade(&stdout.inner);
        std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || flush_until_dropped(&inner))?;
        Ok(stdout)
    }

    fn to(file: File) -> Self {
        Stdout {
            inner: Arc::new(Inner {
                file,
                pending: ThreadLocal::new(),
                long_lines: Mutex::new(()),
            }),
        }
    }

    /// Writes out every thread's waiting lines; the shop calls it as it
    /// stops.
    pub fn flush(&self) {
        self.inner.flush_all();
    }
}

fn flush_until_dropped(inner: &Weak<Inner>) {
    loop {
        std::thread::sleep(FLUSH_EVERY);
        match inner.upgrade() {
            Some(inner) => inner.flush_all(),
            None => return,
        }
    }
}

impl Inner {
    fn pending(&self) -> MutexGuard<'_, Vec<u8>> {
        self.pending
            .get_or(|| Mutex::new(Vec::with_capacity(ATOMIC_WRITE)))
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn flush_all(&self) {
        for pending in self.pending.iter() {
            let mut pending = pending.lock().unwrap_or_else(|e| e.into_inner());
            self.write_out(&mut pending);
        }
    }

    /// Writes `pending` (whole lines, at most `ATOMIC_WRITE` bytes) and
    /// empties it. A line that cannot be written is dropped, as a direct
    /// write of it would have been.
    fn write_out(&self, pending: &mut Vec<u8>) {
        if !pending.is_empty() {
            let _ = (&self.file).write_all(pending);
            pending.clear();
        }
    }

    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        if line.len() <= ATOMIC_WRITE {
            return (&self.file).write_all(line);
        }
        let _whole = self.long_lines.lock().unwrap_or_else(|e| e.into_inner());
        (&self.file).write_all(line)
    }
}

/// One writer per line: buffered for `info` and below, direct above.
pub struct LineWriter<'a> {
    inner: &'a Inner,
    buffered: bool,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, line: &[u8]) -> io::Result<()> {
        let mut pending = self.inner.pending();
        if !self.buffered || pending.len() + line.len() > ATOMIC_WRITE {
            self.inner.write_out(&mut pending);
        }
        if self.buffered && line.len() <= ATOMIC_WRITE {
            pending.extend_from_slice(line);
            return Ok(());
        }
        self.inner.write_line(line)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Stdout {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            inner: &self.inner,
            buffered: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LineWriter {
            inner: &self.inner,
            buffered: *meta.level() > Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek, SeekFrom};

    use tracing::Level;

    use super::*;

    fn written(file: &mut File) -> String {
        let mut text = String::new();
        file.seek(SeekFrom::Start(0)).unwrap();
        file.read_to_string(&mut text).unwrap();
        text
    }

    fn writer(out: &Stdout, level: Level) -> LineWriter<'_> {
        LineWriter {
            inner: &out.inner,
            buffered: level > Level::WARN,
        }
    }

    #[test]
    fn lines_written_at_once_from_several_threads_stay_whole_and_in_order() {
        let mut file = tempfile::tempfile().unwrap();
        let out = Stdout::to(file.try_clone().unwrap());
        let short = |t: usize, i: usize| format!("{{\"thread\":{t},\"line\":{i}}}\n");
        let long = |t: usize| format!("{}\n", t.to_string().repeat(2 * ATOMIC_WRITE));
        std::thread::scope(|scope| {
            for t in 0..4 {
                let out = &out;
                scope.spawn(move || {
                    for i in 0..500 {
                        let level = if i % 100 == 0 {
                            Level::WARN
                        } else {
                            Level::INFO
                        };
                        writer(out, level)
                            .write_all(short(t, i).as_bytes())
                            .unwrap();
                    }
                    writer(out, Level::INFO)
                        .write_all(long(t).as_bytes())
                        .unwrap();
                });
            }
        });
        out.flush();
        let written = written(&mut file);
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(lines.len(), 4 * 501);
        for t in 0..4 {
            let mine: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("{{\"thread\":{t},")))
                .collect();
            let expected: Vec<String> = (0..500).map(|i| short(t, i)).collect();
            assert_eq!(
                mine,
                expected.iter().map(|l| l.trim_end()).collect::<Vec<_>>(),
                "the lines of thread {t} are torn or out of order"
            );
            assert!(
                lines.contains(&long(t).trim_end()),
                "the long line of {t} is torn"
            );
        }
    }

    #[test]
    fn info_lines_wait_for_a_flush_and_a_warning_takes_them_along() {
        let mut file = tempfile::tempfile().unwrap();
        let out = Stdout::to(file.try_clone().unwrap());
        writer(&out, Level::INFO).write_all(b"info\n").unwrap();
        assert_eq!(written(&mut file), "", "an info line waits");
        writer(&out, Level::WARN).write_all(b"warn\n").unwrap();
        assert_eq!(written(&mut file), "info\nwarn\n");
        writer(&out, Level::INFO).write_all(b"later\n").unwrap();
        out.flush();
        assert_eq!(written(&mut file), "info\nwarn\nlater\n");
    }

    #[test]
    fn the_flushing_thread_writes_out_what_waited() {
        let mut file = tempfile::tempfile().unwrap();
        let out = Stdout::to(file.try_clone().unwrap());
        let inner = Arc::downgrade(&out.inner);
        let flusher = std::thread::spawn(move || flush_until_dropped(&inner));
        writer(&out, Level::INFO).write_all(b"waiting\n").unwrap();
        let deadline = std::time::Instant::now() + 50 * FLUSH_EVERY;
        while written(&mut file).is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(FLUSH_EVERY / 4);
        }
        assert_eq!(written(&mut file), "waiting\n");
        drop(out);
        flusher
            .join()
            .expect("the flushing thread stops with its Stdout");
    }
}
