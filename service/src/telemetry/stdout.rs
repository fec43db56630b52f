//! Standard output for log lines without `std::io::Stdout`'s lock.
//!
//! `Stdout` serialises every write behind one process-wide mutex; with a log
//! line per request, the shop's worker threads queued on it (half a futex
//! call per request, a sixth of a cached product page's throughput). A
//! line is instead written with one `write(2)` of its own: the kernel keeps
//! writes of up to `PIPE_BUF` bytes whole on a pipe, which is what a
//! container's standard output is, and on a file or a terminal. Longer lines
//! (rare: an error with a long chain of causes) take a lock among
//! themselves.

use std::{
    fs::File,
    io::{self, Write},
    os::fd::AsFd,
    sync::{Arc, Mutex},
};

use tracing_subscriber::fmt::MakeWriter;

/// `PIPE_BUF` on Linux: writes up to this size are never interleaved.
const ATOMIC_WRITE: usize = 4096;

/// Where the shop's log lines go: its standard output.
#[derive(Clone)]
pub struct Stdout {
    file: Arc<File>,
    long_lines: Arc<Mutex<()>>,
}

impl Stdout {
    /// A handle on the process's standard output (a duplicate of fd 1).
    pub fn new() -> io::Result<Self> {
        let fd = io::stdout().as_fd().try_clone_to_owned()?;
        Ok(Self::to(File::from(fd)))
    }

    fn to(file: File) -> Self {
        Stdout {
            file: Arc::new(file),
            long_lines: Arc::default(),
        }
    }
}

/// One writer per line.
pub struct LineWriter<'a>(&'a Stdout);

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0.file).write(buf)
    }

    fn write_all(&mut self, line: &[u8]) -> io::Result<()> {
        if line.len() <= ATOMIC_WRITE {
            return (&*self.0.file).write_all(line);
        }
        let _whole = self.0.long_lines.lock().unwrap_or_else(|e| e.into_inner());
        (&*self.0.file).write_all(line)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Stdout {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(self)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek, SeekFrom};

    use super::*;

    #[test]
    fn lines_written_at_once_from_several_threads_stay_whole() {
        let mut file = tempfile::tempfile().unwrap();
        let out = Stdout::to(file.try_clone().unwrap());
        let short = |t: usize, i: usize| format!("{{\"thread\":{t},\"line\":{i}}}\n");
        let long = |t: usize| format!("{}\n", t.to_string().repeat(2 * ATOMIC_WRITE));
        std::thread::scope(|scope| {
            for t in 0..4 {
                let out = &out;
                scope.spawn(move || {
                    for i in 0..500 {
                        out.make_writer().write_all(short(t, i).as_bytes()).unwrap();
                    }
                    out.make_writer().write_all(long(t).as_bytes()).unwrap();
                });
            }
        });
        let mut written = String::new();
        file.seek(SeekFrom::Start(0)).unwrap();
        file.read_to_string(&mut written).unwrap();
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(lines.len(), 4 * 501);
        for t in 0..4 {
            for i in 0..500 {
                assert!(
                    lines.contains(&short(t, i).trim_end()),
                    "line {t}/{i} is torn"
                );
            }
            assert!(
                lines.contains(&long(t).trim_end()),
                "the long line of {t} is torn"
            );
        }
    }
}
