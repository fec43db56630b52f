//! The processes the bench starts (the shop, the reference handler) and what
//! it reads about them from /proc: resident memory, CPU time of the load
//! generators it waited for.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};

/// A server the bench started; killed when dropped.
pub struct Server {
    pub name: String,
    child: Child,
    /// Where its requests go.
    pub port: u16,
    /// Where `/readyz` and `/metrics` are (the shop's admin port).
    pub admin_port: u16,
    /// From spawning the process to its first `200` on `/readyz`.
    pub ready_after: Duration,
}

/// How to start a shop.
pub struct ShopSpec<'a> {
    pub binary: &'a Path,
    pub database_url: &'a str,
    pub telemetry: bool,
    /// Where its stderr goes (its stdout, the JSON log, goes to /dev/null:
    /// the writes are made and paid for, the disk is spared).
    pub log: &'a Path,
}

impl Server {
    /// Starts the shop and waits until `/readyz` answers 200.
    pub fn shop(name: &str, spec: &ShopSpec<'_>) -> anyhow::Result<Server> {
        let (port, admin_port) = (free_port()?, free_port()?);
        let log = std::fs::File::create(spec.log)
            .with_context(|| format!("creating {}", spec.log.display()))?;
        let mut command = Command::new(spec.binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SHOP_LISTEN", format!("127.0.0.1:{port}"))
            .env("SHOP_ADMIN_LISTEN", format!("127.0.0.1:{admin_port}"))
            .env("DATABASE_URL", spec.database_url)
            .env("SHOP_RATE_LIMIT", "off")
            .env("SHOP_TELEMETRY", if spec.telemetry { "on" } else { "off" })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        Server::start(name, command, port, admin_port, Duration::from_secs(30)).with_context(|| {
            format!(
                "starting the shop ({name}); its log: {}",
                spec.log.display()
            )
        })
    }

    /// Starts the reference handler and waits until it answers.
    pub fn reference(binary: &Path) -> anyhow::Result<Server> {
        let port = free_port()?;
        let mut command = Command::new(binary);
        command
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        Server::start("reference", command, port, port, Duration::from_secs(10))
    }

    fn start(
        name: &str,
        mut command: Command,
        port: u16,
        admin_port: u16,
        timeout: Duration,
    ) -> anyhow::Result<Server> {
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("running {:?}", command.get_program()))?;
        let mut server = Server {
            name: name.to_owned(),
            child,
            port,
            admin_port,
            ready_after: Duration::ZERO,
        };
        loop {
            if let Ok((200, _)) = get(admin_port, "/readyz") {
                server.ready_after = started.elapsed();
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("{name} exited before it was ready ({status})");
            }
            if started.elapsed() > timeout {
                bail!("{name} was not ready after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.admin_port)
    }

    /// Resident set size, in bytes.
    pub fn resident_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .with_context(|| format!("reading /proc of {}", self.name))?;
        resident_bytes(&status).with_context(|| format!("no VmRSS for {}", self.name))
    }

    /// Stops the server (SIGKILL: nothing of it is measured after this).
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `VmRSS:  12345 kB` → bytes.
fn resident_bytes(proc_status: &str) -> Option<u64> {
    let line = proc_status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A free TCP port on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A GET on loopback, with the least machinery: status and body.
pub fn get(port: u16, path: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP answer: {answer:.80}"))?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// CPU time (user and system) of the children this process has waited
/// for: the difference over one `wait` is that child's CPU time.
pub fn children_cpu() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    children_cpu_from(&stat).context("malformed /proc/self/stat")
}

fn children_cpu_from(stat: &str) -> Option<Duration> {
    // Fields after the parenthesised command name, which may contain spaces:
    // cutime and cstime are fields 16 and 17 of the whole line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux the bench runs on.
    Some(Duration::from_millis(ticks * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_in_kibibytes() {
        let status = "Name:\tshop\nVmPeak:\t  99999 kB\nVmRSS:\t   30720 kB\n";
        assert_eq!(resident_bytes(status), Some(30 * 1024 * 1024));
        assert_eq!(resident_bytes("Name:\tshop\n"), None);
    }

    #[test]
    fn waited_for_children_cpu_is_read_after_the_command_name() {
        let stat = "4242 (bench (x) y) S 1 4242 4242 0 -1 4194560 100 200 0 0 7 3 150 50 20 0 1 0";
        assert_eq!(children_cpu_from(stat), Some(Duration::from_millis(2000)));
    }

    #[test]
    fn this_process_can_read_its_own_children_cpu() {
        children_cpu().unwrap();
    }
}
