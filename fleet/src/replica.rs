//! One shop replica, as a pod runs it: its own public and admin port, the
//! fleet's session key and database, an optional CPU limit. Killed with
//! SIGKILL, it can be restarted on the same ports, as a kubelet restarts a
//! crashed container in its pod.

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

use crate::cpu_limit::{Cores, CpuLimit};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the shop binary was not found ({0}): build it with `cargo build --release -p shop`, \
         or set SHOP_BIN to its path"
    )]
    MissingBinary(String),
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    #[error("replica {name} exited before it was ready ({status}); the end of its log:\n{log}")]
    Exited {
        name: String,
        status: String,
        log: String,
    },
    #[error("replica {name} was not ready within {timeout:?}; the end of its log:\n{log}")]
    NotReady {
        name: String,
        timeout: Duration,
        log: String,
    },
    #[error(transparent)]
    CpuLimit(#[from] crate::cpu_limit::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How every replica of a fleet runs.
#[derive(Debug, Clone)]
pub struct Spec {
    pub binary: PathBuf,
    pub database_url: String,
    /// The same on every replica, so a shopper's session cookie is good on
    /// any of them.
    pub session_key: String,
    pub admin_token: String,
    pub cpu_limit: Option<Cores>,
    /// More environment for the shop, e.g. `SHOP_WORKERS`.
    pub env: Vec<(String, String)>,
    /// Where each replica's log is written, `<name>.log`.
    pub log_dir: PathBuf,
}

/// The `shop` binary: `SHOP_BIN`, or beside the running executable (or its
/// parent directory, where test binaries live in `deps/`).
pub fn shop_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("SHOP_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::MissingBinary(format!(
                "SHOP_BIN={} is not a file",
                path.display()
            )))
        };
    }
    let exe = std::env::current_exe().map_err(|e| Error::Io("finding this program".into(), e))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    [dir.join("shop"), dir.join("../shop")]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| Error::MissingBinary(format!("not beside {}", exe.display())))
}

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// A running (or killed) shop replica; killed when dropped.
#[derive(Debug)]
pub struct Replica {
    name: String,
    public: SocketAddr,
    admin: SocketAddr,
    spec: Spec,
    child: Option<Child>,
    cpu_limit: Option<CpuLimit>,
}

impl Replica {
    /// Starts replica `name` on free loopback ports and waits until it is
    /// ready.
    pub async fn start(name: &str, spec: Spec) -> Result<Replica> {
        let cpu_limit = spec
            .cpu_limit
            .map(|cores| CpuLimit::create(name, cores))
            .transpose()?;
        let mut replica = Replica {
            name: name.to_owned(),
            public: free_address()?,
            admin: free_address()?,
            spec,
            child: None,
            cpu_limit,
        };
        replica.restart().await?;
        Ok(replica)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public address, `127.0.0.1:port`.
    pub fn public_address(&self) -> SocketAddr {
        self.public
    }

    pub fn admin_address(&self) -> SocketAddr {
        self.admin
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.public)
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin)
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn log_path(&self) -> PathBuf {
        self.spec.log_dir.join(format!("{}.log", self.name))
    }

    /// SIGKILL, as when a pod's container is killed: no draining.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// (Re)starts the process on the same ports and waits until it is ready.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill().await;
        let log_path = self.log_path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| Error::Io(format!("opening {}", log_path.display()), e))?;
        let err = log
            .try_clone()
            .map_err(|e| Error::Io("sharing the replica log".into(), e))?;
        let child = Command::new(&self.spec.binary)
            .env("DATABASE_URL", &self.spec.database_url)
            .env("SHOP_LISTEN", self.public.to_string())
            .env("SHOP_ADMIN_LISTEN", self.admin.to_string())
            .env("SHOP_ADMIN_TOKEN", &self.spec.admin_token)
            .env("SHOP_SESSION_KEY", &self.spec.session_key)
            .env("SHOP_RATE_LIMIT", "off")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                Error::Io(
                    format!("starting {} as {}", self.spec.binary.display(), self.name),
                    e,
                )
            })?;
        if let (Some(limit), Some(pid)) = (&self.cpu_limit, child.id()) {
            limit.add(pid)?;
        }
        self.child = Some(child);
        self.wait_ready().await
    }

    /// SIGTERM, then waits for the graceful exit (SIGKILL after `grace`).
    pub async fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        if tokio::time::timeout(grace, child.wait()).await.is_err() {
            let _ = child.kill().await;
        }
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| Error::Io("building an HTTP client".into(), std::io::Error::other(e)))?;
        let readyz = format!("{}/readyz", self.admin_url());
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(Error::Exited {
                        name: self.name.clone(),
                        status: status.to_string(),
                        log: self.log_tail(),
                    });
                }
            }
            if let Ok(response) = http.get(&readyz).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(Error::NotReady {
                    name: self.name.clone(),
                    timeout: READY_TIMEOUT,
                    log: self.log_tail(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The last lines of the replica's log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// A loopback address with a port that is free now.
pub(crate) fn free_address() -> Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Error::Io("finding a free port".into(), e))
}
