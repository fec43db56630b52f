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
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;

use crate::server::{Failure, Launch, Server};

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
    server: Server,
}

impl Alertmanager {
    /// Starts Alertmanager and waits until it is ready. A configuration it
    /// refuses is an [`Error::Exited`] carrying its log, which names the problem.
    pub async fn start(config: Config) -> Result<Alertmanager> {
        let binary = find_binary()?;
        let yml = config.to_yaml();
        let flags = |dir: &Path| {
            vec![
                format!("--storage.path={}", dir.join("data").display()),
                // One instance: no gossip port to collide with another test's.
                "--cluster.listen-address=".to_owned(),
                "--log.level=warn".to_owned(),
            ]
        };
        let server = Server::start(&Launch {
            name: "alertmanager",
            binary: &binary,
            config_name: "alertmanager.yml",
            config: &yml,
            flags: &flags,
        })
        .await?;
        Ok(Alertmanager { server })
    }

    /// The base URL, such as `http://127.0.0.1:34567`.
    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// What Alertmanager has logged so far.
    pub fn log(&self) -> String {
        self.server.log()
    }

    /// Every alert Alertmanager holds, delivered or muted (`GET /api/v2/alerts`).
    pub async fn alerts(&self) -> Result<Vec<Alert>> {
        let response = self
            .server
            .http()
            .get(format!("{}/api/v2/alerts", self.server.url()))
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

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Io(what, e) => Error::Io(what, e),
            Failure::Http(e) => Error::Http(e),
            Failure::Exited { status, log } => Error::Exited { status, log },
            Failure::NotReady { timeout, log } => Error::NotReady { timeout, log },
        }
    }
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
