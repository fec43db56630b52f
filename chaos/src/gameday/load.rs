//! The background traffic: `loadgen run` as a child process at a steady
//! rate, stopped with SIGINT at the end so that it writes its reports.

use std::{path::PathBuf, process::Stdio, time::Duration};

use anyhow::{Context as _, Result};
use nix::{sys::signal::Signal, unistd::Pid};
use serde::{Deserialize, Serialize};
use tokio::process::Child;

use super::scenario::Load;

/// The figures of loadgen's `summary.json` that the report shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    pub requests: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub duration_seconds: u64,
    /// Every SLO held over the whole run (never expected on a game day).
    pub passed: bool,
}

pub struct LoadGenerator {
    child: Child,
    report_dir: PathBuf,
}

impl LoadGenerator {
    /// Starts loadgen; fails if it exits within its first second (a usage
    /// error or an unreachable shop), with what it printed.
    pub async fn start(
        binary: &PathBuf,
        host: &str,
        load: &Load,
        report_dir: PathBuf,
    ) -> Result<Self> {
        std::fs::create_dir_all(&report_dir)
            .with_context(|| format!("creating {}", report_dir.display()))?;
        let log_path = report_dir.join("loadgen.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let users = load.users.to_string();
        let child = tokio::process::Command::new(binary)
            // Users come from the scenario; the profile sets their think
            // time (stress: 0.25 to 1 s).
            .args([
                "run",
                "--profile",
                "stress",
                "--no-request-log",
                "--host",
                host,
            ])
            .arg("--report-dir")
            .arg(&report_dir)
            .args(["--users", &users, "--increase-rate", &users])
            .args(["--throttle-requests", &load.requests_per_second.to_string()])
            // A breached SLO is the point of a game day, not a reason to stop.
            .arg("--no-threshold-abort")
            // Longer than any game day: it is stopped with SIGINT.
            .args(["--run-time", "3h"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("sharing the loadgen log")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting loadgen from {}", binary.display()))?;
        let mut loadgen = LoadGenerator { child, report_dir };
        tokio::time::sleep(Duration::from_secs(1)).await;
        if !loadgen.is_running() {
            let printed = std::fs::read_to_string(&log_path).unwrap_or_default();
            anyhow::bail!("loadgen exited at once:\n{}", printed.trim_end());
        }
        Ok(loadgen)
    }

    /// Whether it is still running (it stops early on a usage error).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the load and reads its summary.
    pub async fn stop(mut self) -> Result<LoadSummary> {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGINT);
        }
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        let path = self.report_dir.join("summary.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "loadgen wrote no summary at {}: see {}",
                path.display(),
                self.report_dir.join("loadgen.log").display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
    }
}
