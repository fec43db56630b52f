//! A real Alertmanager for one test or one game day.
//!
//! [`Alertmanager::start`] runs the `prometheus-alertmanager` binary (Debian
//! package `prometheus-alertmanager`) on a free loopback port, with its own
//! temporary directory, clustering off, and the configuration you give: load
//! the shipped `alerts/alertmanager.yml` with [`Config::from_file`] and send
//! its receivers to [`Webhook`]s of your own with [`Config::webhook_receivers`],
//! so that the routing, grouping and inhibition under test are the shipped
//! ones. Point a Prometheus at it with
//! [`crate::prometheus::Config::alerting_to`]. It is killed when dropped.
//!
//! ```no_run
//! use std::time::Duration;
//! use fleet::alertmanager::{Alertmanager, Config, Webhook};
//!
//! # async fn demo() -> Result<(), fleet::alertmanager::Error> {
//! let pager = Webhook::start().await?;
//! let config = Config::from_file("alerts/alertmanager.yml")?
//!     .webhook_receivers([("shop-pager", pager.url())])?
//!     .timing(Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(3600));
//! let alertmanager = Alertmanager::start(config).await?;
//! let prometheus = fleet::prometheus::Config::scraping(["127.0.0.1:8081"])
//!     .alerting_to(alertmanager.url());
//! # Ok(()) }
//! ```

use std::{
    ffi::OsString,
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde::Deserialize;

mod config;
mod webhook;

pub use config::Config;
pub use webhook::{Notification, NotifiedAlert, Webhook};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the alertmanager binary was not found ({0}): install the Debian package \
         prometheus-alertmanager (apt-get install prometheus-alertmanager), or set \
         ALERTMANAGER_BIN to its path"
    )]
    Missing(String),
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    #[error("{origin}: not an Alertmanager configuration: {message}")]
    Config { origin: String, message: String },
    #[error("alertmanager exited before it was ready ({status}); its log:\n{log}")]
    Exited { status: String, log: String },
    #[error("alertmanager was not ready within {timeout:?}; its log:\n{log}")]
    NotReady { timeout: Duration, log: String },
    #[error("request to alertmanager failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("alertmanager answered {what} with HTTP {status}: {body}")]
    Api {
        what: String,
        status: u16,
        body: String,
    },
    #[error("gave up after {timeout:?} waiting for {what}; received so far: {seen}")]
    Timeout {
        what: String,
        timeout: Duration,
        seen: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An alert as Alertmanager holds it (`GET /api/v2/alerts`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Alert {
    pub labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
    pub status: AlertStatus,
    #[serde(default)]
    pub receivers: Vec<Receiver>,
}

impl Alert {
    /// A label's value, `""` when absent.
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// Whether an alert is delivered, and what mutes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AlertStatus {
    /// `active`, `suppressed` or `unprocessed`.
    pub state: String,
    /// Fingerprints of the alerts inhibiting this one.
    #[serde(rename = "inhibitedBy", default)]
    pub inhibited_by: Vec<String>,
    #[serde(rename = "silencedBy", default)]
    pub silenced_by: Vec<String>,
}

/// A receiver an alert is routed to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Receiver {
    pub name: String,
}

/// A running Alertmanager; killed on drop.
#[derive(Debug)]
pub struct Alertmanager {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
    http: reqwest::Client,
}

const READY_TIMEOUT: Duration = Duration::from_secs(30);

impl Alertmanager {
    /// Starts Alertmanager and waits until it is ready. A configuration it
    /// refuses is an [`Error::Exited`] carrying its log, which names the problem.
    pub async fn start(config: Config) -> Result<Alertmanager> {
        let binary = find_binary()?;
        let yml = config.to_yaml();
        // The port is free when probed but could be taken before Alertmanager
        // binds it: then try again with another one.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut alertmanager = Alertmanager::spawn(&binary, &yml)?;
            match alertmanager.wait_ready().await {
                Ok(()) => return Ok(alertmanager),
                Err(Error::Exited { log, .. })
                    if attempt < 3 && log.contains("address already in use") => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn spawn(binary: &Path, yml: &str) -> Result<Alertmanager> {
        let dir = tempfile::Builder::new()
            .prefix("fleet-alertmanager-")
            .tempdir()
            .map_err(|e| Error::Io("creating a temporary directory".into(), e))?;
        let config_path = dir.path().join("alertmanager.yml");
        std::fs::write(&config_path, yml)
            .map_err(|e| Error::Io(format!("writing {}", config_path.display()), e))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let port = free_port().map_err(|e| Error::Io("finding a free port".into(), e))?;
        let child = spawn(binary, dir.path(), &config_path, port)?;
        Ok(Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            http,
        })
    }

    /// The base URL, such as `http://127.0.0.1:34567`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What Alertmanager has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| Error::Io("waiting on alertmanager".into(), e))?
            {
                return Err(Error::Exited {
                    status: status.to_string(),
                    log: self.log(),
                });
            }
            let ready = self.http.get(format!("{}/-/ready", self.url)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(Error::NotReady {
                    timeout: READY_TIMEOUT,
                    log: self.log(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every alert Alertmanager holds, delivered or muted (`GET /api/v2/alerts`).
    pub async fn alerts(&self) -> Result<Vec<Alert>> {
        let response = self
            .http
            .get(format!("{}/api/v2/alerts", self.url))
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(Error::Api {
                what: "alerts".into(),
                status: status.as_u16(),
                body,
            });
        }
        serde_json::from_str(&body).map_err(|e| Error::Api {
            what: "alerts".into(),
            status: status.as_u16(),
            body: format!("{e}: {body}"),
        })
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ALERTMANAGER_BIN`, else `prometheus-alertmanager` (Debian's name) or
/// `alertmanager` (upstream's) on `PATH`.
fn find_binary() -> Result<PathBuf> {
    find_binary_in(
        std::env::var_os("ALERTMANAGER_BIN"),
        std::env::var_os("PATH").unwrap_or_default(),
    )
}

fn find_binary_in(explicit: Option<OsString>, path: OsString) -> Result<PathBuf> {
    if let Some(binary) = explicit {
        let binary = PathBuf::from(binary);
        return if binary.is_file() {
            Ok(binary)
        } else {
            Err(Error::Missing(format!(
                "ALERTMANAGER_BIN={}",
                binary.display()
            )))
        };
    }
    std::env::split_paths(&path)
        .flat_map(|dir| ["prometheus-alertmanager", "alertmanager"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| Error::Missing("not on PATH".into()))
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn spawn(binary: &Path, dir: &Path, config: &Path, port: u16) -> Result<Child> {
    let log_path = dir.join("alertmanager.log");
    let log = File::create(&log_path)
        .map_err(|e| Error::Io(format!("creating {}", log_path.display()), e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| Error::Io(format!("opening {}", log_path.display()), e))?;
    Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // One instance: no gossip port to collide with another test's.
        .arg("--cluster.listen-address=")
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| Error::Io(format!("starting {}", binary.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_says_which_package_to_install() {
        let error = find_binary_in(None, OsString::from("/nonexistent")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("install the Debian package prometheus-alertmanager"),
            "{error}"
        );
        let error =
            find_binary_in(Some("/nonexistent/alertmanager".into()), OsString::new()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("ALERTMANAGER_BIN=/nonexistent/alertmanager"),
            "{error}"
        );
    }
}
