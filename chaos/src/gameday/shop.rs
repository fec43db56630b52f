//! The shop under test, as a supervised child process: started from its
//! binary, restarted whenever it exits (the graceful-shutdown drill sends it
//! SIGTERM, and something must bring it back, as a kubelet would), and
//! stopped with SIGTERM at the end.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _, Result};
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::{process::Child, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use super::timeline::Timeline;

/// How to run the shop.
#[derive(Debug, Clone)]
pub(crate) struct ShopConfig {
    /// `shop`, or `shop-0`… for the replicas of a fleet.
    pub(crate) name: String,
    pub(crate) binary: PathBuf,
    pub(crate) database_url: String,
    pub(crate) listen: String,
    pub(crate) admin_listen: String,
    pub(crate) admin_token: String,
    /// Its JSON logs, appended to across restarts.
    pub(crate) log: PathBuf,
    /// Where its current pid is written, for the `process-signal` action.
    pub(crate) pid_file: PathBuf,
    /// The replicas of a fleet share one, so a session is good on any.
    pub(crate) session_key: Option<String>,
    /// How long a process that did not exit cleanly (killed, crashed) stays
    /// down before it is started again, as a kubelet's restart back-off
    /// keeps a crashed container down. A clean exit (after SIGTERM) is
    /// restarted at once.
    pub(crate) restart_delay: Duration,
}

impl ShopConfig {
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    pub(crate) fn admin_url(&self) -> String {
        format!("http://{}", self.admin_listen)
    }

    fn spawn(&self) -> Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening the shop log {}", self.log.display()))?;
        let mut command = tokio::process::Command::new(&self.binary);
        if let Some(key) = &self.session_key {
            command.env("SHOP_SESSION_KEY", key);
        }
        let child = command
            .env("DATABASE_URL", &self.database_url)
            .env("SHOP_LISTEN", &self.listen)
            .env("SHOP_ADMIN_LISTEN", &self.admin_listen)
            .env("SHOP_ADMIN_TOKEN", &self.admin_token)
            .env("SHOP_RATE_LIMIT", "off")
            .env("SHOP_DRAIN_DELAY_SECONDS", "1")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("sharing the shop log")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting the shop from {}", self.binary.display()))?;
        if let Some(pid) = child.id() {
            std::fs::write(&self.pid_file, pid.to_string())
                .with_context(|| format!("writing {}", self.pid_file.display()))?;
        }
        Ok(child)
    }
}

/// A running, supervised shop.
pub(crate) struct Supervisor {
    config: ShopConfig,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

const READY_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

impl Supervisor {
    /// Starts the shop and waits until `/readyz` answers 200.
    pub(crate) async fn start(config: ShopConfig, timeline: Timeline) -> Result<Supervisor> {
        let child = config.spawn()?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(supervise(config.clone(), child, stop.clone(), timeline));
        let supervisor = Supervisor { config, stop, task };
        supervisor.wait_ready().await?;
        Ok(supervisor)
    }

    async fn wait_ready(&self) -> Result<()> {
        let http = reqwest::Client::new();
        let url = format!("{}/readyz", self.config.admin_url());
        let started = Instant::now();
        loop {
            if self.task.is_finished() {
                bail!(
                    "the shop exited during start-up: see {}",
                    self.config.log.display()
                );
            }
            let ready = http.get(&url).timeout(Duration::from_secs(2)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!(
                    "the shop was not ready within {READY_TIMEOUT:?}: see {}",
                    self.config.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then wait for it to drain and exit.
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn supervise(
    config: ShopConfig,
    mut child: Child,
    stop: CancellationToken,
    timeline: Timeline,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                terminate(&mut child).await;
                return;
            }
            status = child.wait() => {
                let clean = status.as_ref().is_ok_and(|s| s.success());
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                let delay = if clean { Duration::from_millis(100) } else { config.restart_delay };
                timeline.note(format!(
                    "{} exited ({status}); restarting it in {:.1} s",
                    config.name,
                    delay.as_secs_f64()
                ));
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(delay) => {}
                }
                match config.spawn() {
                    Ok(next) => child = next,
                    Err(error) => {
                        timeline.note(format!("the shop could not be restarted: {error:#}"));
                        return;
                    }
                }
            }
        }
    }
}

async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        if tokio::time::timeout(STOP_TIMEOUT, child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

/// A `host:port` on loopback that was free a moment ago.
pub(crate) fn free_address() -> Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.to_string())
}

/// The shop's `DATABASE_URL` for PostgreSQL, with its `host:port` replaced by
/// `via` (the fault proxy's listener); also returns the original `host:port`.
pub(crate) fn postgres_url_via(url: &str, via: &str) -> Result<(String, String)> {
    let (credentials, rest) = url.rsplit_once('@').map_or(
        ("postgres://", url.trim_start_matches("postgres://")),
        |(c, r)| (c, r),
    );
    let (host, database) = rest
        .split_once('/')
        .with_context(|| "DATABASE_URL must name a database: postgres://user@host:port/db")?;
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    let separator = if credentials.ends_with("://") {
        ""
    } else {
        "@"
    };
    Ok((format!("{credentials}{separator}{via}/{database}"), host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_rerouted_through_the_proxy() {
        let (url, upstream) = postgres_url_via(
            "postgres://postgres@127.0.0.1:5432/shop?sslmode=disable",
            "127.0.0.1:9000",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://postgres@127.0.0.1:9000/shop?sslmode=disable"
        );
        assert_eq!(upstream, "127.0.0.1:5432");
        let (url, upstream) =
            postgres_url_via("postgres://localhost/shop", "127.0.0.1:9000").unwrap();
        assert_eq!(url, "postgres://127.0.0.1:9000/shop");
        assert_eq!(upstream, "localhost:5432");
    }
}
