//! A server of the Prometheus family (Prometheus, Alertmanager) for one test
//! or tool: its configuration written into a temporary directory of its own,
//! the binary started on a free loopback port with its log beside it, ready
//! once `/-/ready` answers; killed when dropped.

use std::{
    fs::File,
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// How to start one.
pub(crate) struct Launch<'a> {
    /// `prometheus`: names the directory, the log file and the messages.
    pub(crate) name: &'static str,
    pub(crate) binary: &'a Path,
    /// The configuration's file name and text.
    pub(crate) config_name: &'static str,
    pub(crate) config: &'a str,
    /// Flags beside `--config.file` and `--web.listen-address`, given the
    /// server's directory (for its storage).
    pub(crate) flags: &'a dyn Fn(&Path) -> Vec<String>,
}

/// What can go wrong; each server's own error says it in its words.
#[derive(Debug)]
pub(crate) enum Failure {
    Io(String, std::io::Error),
    Http(reqwest::Error),
    Exited { status: String, log: String },
    NotReady { timeout: Duration, log: String },
}

#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
    http: reqwest::Client,
    name: &'static str,
}

const READY_TIMEOUT: Duration = Duration::from_secs(30);

impl Server {
    /// Starts the server and waits until it is ready. The port is free when
    /// probed but could be taken before the server binds it: then it tries
    /// again with another one.
    pub(crate) async fn start(launch: &Launch<'_>) -> Result<Server, Failure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut server = Server::spawn(launch)?;
            match server.wait_ready().await {
                Ok(()) => return Ok(server),
                Err(Failure::Exited { log, .. })
                    if attempt < 3 && log.contains("address already in use") => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn spawn(launch: &Launch<'_>) -> Result<Server, Failure> {
        let io = |what: String| move |e| Failure::Io(what, e);
        let dir = tempfile::Builder::new()
            .prefix(&format!("fleet-{}-", launch.name))
            .tempdir()
            .map_err(io("creating a temporary directory".into()))?;
        let config_path = dir.path().join(launch.config_name);
        std::fs::write(&config_path, launch.config)
            .map_err(io(format!("writing {}", config_path.display())))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(Failure::Http)?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("finding a free port".into()))?
            .port();
        let log_path = dir.path().join(format!("{}.log", launch.name));
        let log =
            File::create(&log_path).map_err(io(format!("creating {}", log_path.display())))?;
        let log_err = log
            .try_clone()
            .map_err(io(format!("opening {}", log_path.display())))?;
        let child = Command::new(launch.binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args((launch.flags)(dir.path()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(io(format!("starting {}", launch.binary.display())))?;
        Ok(Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            http,
            name: launch.name,
        })
    }

    /// The base URL, such as `http://127.0.0.1:34567`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// What the server has logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{}.log", self.name)))
            .unwrap_or_default()
    }

    async fn wait_ready(&mut self) -> Result<(), Failure> {
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| Failure::Io(format!("waiting on {}", self.name), e))?
            {
                return Err(Failure::Exited {
                    status: status.to_string(),
                    log: self.log(),
                });
            }
            let ready = self.http.get(format!("{}/-/ready", self.url)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(Failure::NotReady {
                    timeout: READY_TIMEOUT,
                    log: self.log(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
