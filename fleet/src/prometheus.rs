//! A real Prometheus server for one test.
//!
//! [`Prometheus::start`] runs the `prometheus` binary (Debian package
//! `prometheus`) on a free loopback port with its own temporary directory and
//! a generated `prometheus.yml`: the targets you give, scraped every second,
//! and your rule files, evaluated every second. It is killed when dropped.
//! Prometheus' service discovery makes the first scrape wait about five
//! seconds after start: wait for data with [`Prometheus::wait_until`].
//!
//! ```no_run
//! use std::time::Duration;
//! use fleet::prometheus::{Config, Prometheus};
//!
//! # async fn demo() -> Result<(), fleet::prometheus::Error> {
//! let config = Config::scraping(["127.0.0.1:8081"]).rule_file("alerts/generated/slo-rules.yaml");
//! let prometheus = Prometheus::start(config).await?;
//! prometheus
//!     .wait_until("up", |up| up.iter().any(|s| s.value == 1.0), Duration::from_secs(30))
//!     .await?;
//! let firing = prometheus.alerts().await?;
//! # Ok(()) }
//! ```

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::server::{Failure, Launch, Server};

mod api;

pub use api::{Alert, RuleStatus, Sample, Series, Target};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the prometheus binary was not found ({0}): install the Debian package prometheus \
         (apt-get install prometheus), or set PROMETHEUS_BIN to its path"
    )]
    Missing(String),
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    #[error("prometheus exited before it was ready ({status}); its log:\n{log}")]
    Exited { status: String, log: String },
    #[error("prometheus was not ready within {timeout:?}; its log:\n{log}")]
    NotReady { timeout: Duration, log: String },
    #[error("request to prometheus failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("prometheus answered {what} with an error: {message}")]
    Api { what: String, message: String },
    #[error("gave up after {timeout:?} waiting on `{query}`; last result: {last}")]
    Timeout {
        query: String,
        timeout: Duration,
        last: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the server scrapes and evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `host:port` of each target.
    pub targets: Vec<String>,
    /// The scrape job's name: `shop` by default, as the SLO rules expect.
    pub job: String,
    pub metrics_path: String,
    pub scrape_interval: Duration,
    pub evaluation_interval: Duration,
    /// Rule files to load (relative paths are taken from the current directory).
    pub rule_files: Vec<PathBuf>,
    /// More scrape jobs beside the main one: `(job, targets)`.
    pub other_jobs: Vec<(String, Vec<String>)>,
    /// Alertmanagers to send alerts to, as `host:port` (none by default).
    pub alertmanagers: Vec<String>,
    /// A file of the main job's targets in Prometheus' `file_sd` format,
    /// read again whenever it changes (replicas that come and go).
    pub discovery_file: Option<PathBuf>,
}

impl Config {
    /// Scrape `targets` (`host:port`) as job `shop`, every second.
    pub fn scraping<I, S>(targets: I) -> Config
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Config {
            targets: targets.into_iter().map(Into::into).collect(),
            job: "shop".into(),
            metrics_path: "/metrics".into(),
            scrape_interval: Duration::from_secs(1),
            evaluation_interval: Duration::from_secs(1),
            rule_files: Vec::new(),
            other_jobs: Vec::new(),
            alertmanagers: Vec::new(),
            discovery_file: None,
        }
    }

    /// Also scrape, as the main job, the targets listed in `path` (a
    /// `file_sd` JSON file), with the labels given there.
    pub fn discovering(mut self, path: impl Into<PathBuf>) -> Config {
        self.discovery_file = Some(path.into());
        self
    }

    /// Also scrape `targets` (`host:port`, path `/metrics`) as `job`.
    pub fn also_scraping<I, S>(mut self, job: impl Into<String>, targets: I) -> Config
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.other_jobs
            .push((job.into(), targets.into_iter().map(Into::into).collect()));
        self
    }

    /// Name the scrape job.
    pub fn job(mut self, job: impl Into<String>) -> Config {
        self.job = job.into();
        self
    }

    /// Load a rule file.
    pub fn rule_file(mut self, path: impl Into<PathBuf>) -> Config {
        self.rule_files.push(path.into());
        self
    }

    /// Send alerts to the Alertmanager at `url` (`http://host:port` or `host:port`),
    /// such as [`crate::alertmanager::Alertmanager::url`].
    pub fn alerting_to(mut self, url: &str) -> Config {
        let address = url.trim_start_matches("http://").trim_end_matches('/');
        self.alertmanagers.push(address.to_owned());
        self
    }

    pub fn scrape_interval(mut self, interval: Duration) -> Config {
        self.scrape_interval = interval;
        self
    }

    pub fn evaluation_interval(mut self, interval: Duration) -> Config {
        self.evaluation_interval = interval;
        self
    }

    /// The `prometheus.yml` (JSON, which YAML parsers read as YAML).
    fn to_prometheus_yml(&self) -> Result<String> {
        let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
        let rule_files = self
            .rule_files
            .iter()
            .map(|path| {
                std::fs::canonicalize(path)
                    .map(|p| p.display().to_string())
                    .map_err(|e| Error::Io(format!("rule file {}", path.display()), e))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut main_job = json!({
            "job_name": self.job,
            "metrics_path": self.metrics_path,
            "static_configs": [{ "targets": self.targets }],
        });
        if let Some(file) = &self.discovery_file {
            main_job["file_sd_configs"] =
                json!([{ "files": [file.display().to_string()], "refresh_interval": "1s" }]);
        }
        let mut scrape_configs = vec![main_job];
        scrape_configs.extend(self.other_jobs.iter().map(|(job, targets)| {
            json!({
                "job_name": job,
                "static_configs": [{ "targets": targets }],
            })
        }));
        let mut config = json!({
            "global": {
                "scrape_interval": ms(self.scrape_interval),
                "scrape_timeout": ms(self.scrape_interval),
                "evaluation_interval": ms(self.evaluation_interval),
            },
            "rule_files": rule_files,
            "scrape_configs": scrape_configs,
        });
        if !self.alertmanagers.is_empty() {
            config["alerting"] = json!({
                "alertmanagers": [{ "static_configs": [{ "targets": self.alertmanagers }] }],
            });
        }
        Ok(serde_json::to_string_pretty(&config).expect("a JSON value serialises"))
    }
}

/// A running Prometheus server; killed on drop.
#[derive(Debug)]
pub struct Prometheus {
    server: Server,
}

const POLL: Duration = Duration::from_millis(250);

impl Prometheus {
    /// Starts Prometheus and waits until it is ready to serve queries.
    pub async fn start(config: Config) -> Result<Prometheus> {
        let binary = find_binary()?;
        let yml = config.to_prometheus_yml()?;
        let flags = |dir: &Path| {
            vec![
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                "--log.level=warn".to_owned(),
            ]
        };
        let server = Server::start(&Launch {
            name: "prometheus",
            binary: &binary,
            config_name: "prometheus.yml",
            config: &yml,
            flags: &flags,
        })
        .await?;
        Ok(Prometheus { server })
    }

    /// The base URL, such as `http://127.0.0.1:34567`.
    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// What Prometheus has logged so far.
    pub fn log(&self) -> String {
        self.server.log()
    }

    /// An instant query, evaluated now. A scalar result is one sample without labels.
    pub async fn query(&self, promql: &str) -> Result<Vec<Sample>> {
        let data = self
            .api("/api/v1/query", &[("query", promql.to_owned())], promql)
            .await?;
        api::instant_result(data).map_err(|message| Error::Api {
            what: format!("query `{promql}`"),
            message,
        })
    }

    /// A range query from `start` to `end` every `step`.
    pub async fn query_range(
        &self,
        promql: &str,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> Result<Vec<Series>> {
        let seconds = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64()
                .to_string()
        };
        let params = [
            ("query", promql.to_owned()),
            ("start", seconds(start)),
            ("end", seconds(end)),
            ("step", step.as_secs_f64().to_string()),
        ];
        let data = self.api("/api/v1/query_range", &params, promql).await?;
        api::range_result(data).map_err(|message| Error::Api {
            what: format!("range query `{promql}`"),
            message,
        })
    }

    /// Polls an instant query until `done` accepts its result, and returns
    /// that result; an error after `timeout` (with the last result in it).
    /// A query Prometheus refuses fails at once.
    pub async fn wait_until(
        &self,
        promql: &str,
        done: impl Fn(&[Sample]) -> bool,
        timeout: Duration,
    ) -> Result<Vec<Sample>> {
        let started = Instant::now();
        loop {
            let samples = self.query(promql).await?;
            if done(&samples) {
                return Ok(samples);
            }
            if started.elapsed() > timeout {
                return Err(Error::Timeout {
                    query: promql.to_owned(),
                    timeout,
                    last: format!("{samples:?}"),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The pending and firing alerts (`GET /api/v1/alerts`).
    pub async fn alerts(&self) -> Result<Vec<Alert>> {
        #[derive(Deserialize)]
        struct Data {
            alerts: Vec<Alert>,
        }
        let data = self.api("/api/v1/alerts", &[], "alerts").await?;
        let data: Data = serde_json::from_value(data).map_err(|e| Error::Api {
            what: "alerts".into(),
            message: e.to_string(),
        })?;
        Ok(data.alerts)
    }

    /// Every loaded rule with its health (`GET /api/v1/rules`).
    pub async fn rules(&self) -> Result<Vec<RuleStatus>> {
        let data = self.api("/api/v1/rules", &[], "rules").await?;
        api::rules(data).map_err(|message| Error::Api {
            what: "rules".into(),
            message,
        })
    }

    /// The scrape targets with their health (`GET /api/v1/targets`).
    pub async fn targets(&self) -> Result<Vec<Target>> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(rename = "activeTargets")]
            active_targets: Vec<Target>,
        }
        let data = self.api("/api/v1/targets", &[], "targets").await?;
        let data: Data = serde_json::from_value(data).map_err(|e| Error::Api {
            what: "targets".into(),
            message: e.to_string(),
        })?;
        Ok(data.active_targets)
    }

    async fn api(&self, path: &str, params: &[(&str, String)], what: &str) -> Result<Value> {
        let response = self
            .server
            .http()
            .get(format!("{}{path}", self.server.url()))
            .query(params)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        let body: Value = serde_json::from_str(&text).map_err(|_| Error::Api {
            what: what.to_owned(),
            message: format!("HTTP {status}: {text}"),
        })?;
        if body["status"] != "success" {
            return Err(Error::Api {
                what: what.to_owned(),
                message: format!("{}: {}", body["errorType"], body["error"]),
            });
        }
        Ok(body["data"].clone())
    }
}

/// `PROMETHEUS_BIN`, else `prometheus` on `PATH`.
fn find_binary() -> Result<PathBuf> {
    find_binary_in(
        std::env::var_os("PROMETHEUS_BIN"),
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
                "PROMETHEUS_BIN={}",
                binary.display()
            )))
        };
    }
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
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
    fn the_generated_config_names_the_job_targets_and_absolute_rule_files() {
        let rules = tempfile::NamedTempFile::new().unwrap();
        let yml = Config::scraping(["127.0.0.1:9"])
            .rule_file(rules.path())
            .scrape_interval(Duration::from_millis(500))
            .to_prometheus_yml()
            .unwrap();
        let config: Value = serde_json::from_str(&yml).unwrap();
        assert_eq!(config["scrape_configs"][0]["job_name"], "shop");
        assert_eq!(
            config["scrape_configs"][0]["static_configs"][0]["targets"][0],
            "127.0.0.1:9"
        );
        assert_eq!(config["global"]["scrape_interval"], "500ms");
        assert!(Path::new(config["rule_files"][0].as_str().unwrap()).is_absolute());
        assert!(config.get("alerting").is_none());
    }

    #[test]
    fn alerting_to_an_alertmanager_names_its_address() {
        let yml = Config::scraping(["127.0.0.1:9"])
            .alerting_to("http://127.0.0.1:9093")
            .to_prometheus_yml()
            .unwrap();
        let config: Value = serde_json::from_str(&yml).unwrap();
        assert_eq!(
            config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0],
            "127.0.0.1:9093"
        );
    }

    #[test]
    fn a_missing_binary_says_which_package_to_install() {
        let error = find_binary_in(None, OsString::from("/nonexistent")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("install the Debian package prometheus"),
            "{error}"
        );
        let error =
            find_binary_in(Some("/nonexistent/prometheus".into()), OsString::new()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("PROMETHEUS_BIN=/nonexistent/prometheus"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_rule_file_is_reported_by_name() {
        let error = Config::scraping(["127.0.0.1:9"])
            .rule_file("/nonexistent/rules.yaml")
            .to_prometheus_yml()
            .unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/rules.yaml"),
            "{error}"
        );
    }
}
