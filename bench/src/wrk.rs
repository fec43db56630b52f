//! Running wrk and reading back what it measured. Every run gets
//! `lua/report.lua`, whose `done` hook prints one `BENCH-RESULT {json}` line.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::process::children_cpu;

const REPORT_LUA: &str = include_str!("../lua/report.lua");
const CHECKOUT_LUA: &str = include_str!("../lua/checkout.lua");
const MARKER: &str = "BENCH-RESULT ";

/// How hard wrk pushes: connections over threads, for a duration.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Load {
    pub connections: u32,
    pub threads: u32,
    pub duration: Duration,
}

/// The scripts wrk runs, written once into the bench's scratch directory.
#[derive(Debug, Clone)]
pub struct Scripts {
    /// Plain GETs of the URL.
    pub get: PathBuf,
    /// `POST /api/v1/orders` of prepared carts (see `lua/checkout.lua`).
    pub checkout: PathBuf,
}

impl Scripts {
    pub fn write(dir: &Path) -> anyhow::Result<Scripts> {
        let write = |name: &str, source: String| -> anyhow::Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, source)
                .with_context(|| format!("writing the wrk script {}", path.display()))?;
            Ok(path)
        };
        Ok(Scripts {
            get: write("get.lua", REPORT_LUA.to_owned())?,
            checkout: write("checkout.lua", format!("{CHECKOUT_LUA}\n{REPORT_LUA}"))?,
        })
    }
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
pub struct Measurement {
    pub requests: u64,
    pub duration_us: u64,
    /// Connect, read, write and timeout errors.
    pub socket_errors: u64,
    /// Answers that were not 2xx or 3xx.
    pub status_errors: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// CPU time wrk itself used (user and system), in seconds.
    #[serde(default)]
    pub client_cpu_seconds: f64,
}

impl Measurement {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / (self.duration_us.max(1) as f64 / 1e6)
    }

    /// Answered 2xx or 3xx.
    pub fn successes(&self) -> u64 {
        self.requests.saturating_sub(self.status_errors)
    }
}

/// Runs wrk against `url` with `script` (and its arguments after `--`).
pub fn run(
    url: &str,
    load: &Load,
    script: &Path,
    script_args: &[String],
) -> anyhow::Result<Measurement> {
    let mut command = Command::new("wrk");
    command
        .arg(format!("--connections={}", load.connections))
        .arg(format!("--threads={}", load.threads))
        .arg(format!("--duration={}s", load.duration.as_secs().max(1)))
        .arg("--timeout=5s")
        .arg(format!("--script={}", script.display()))
        .arg(url);
    if !script_args.is_empty() {
        command.arg("--").args(script_args);
    }
    let cpu_before = children_cpu()?;
    let output = command
        .output()
        .context("running wrk (is it installed? bench/run.sh installs it)")?;
    let cpu = children_cpu()?.saturating_sub(cpu_before);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk {url} failed ({}): {}{}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let mut measurement =
        parse(&stdout).with_context(|| format!("reading wrk's output for {url}"))?;
    measurement.client_cpu_seconds = cpu.as_secs_f64();
    Ok(measurement)
}

/// The `BENCH-RESULT` line of wrk's output.
pub fn parse(stdout: &str) -> anyhow::Result<Measurement> {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(MARKER))
        .with_context(|| format!("no {MARKER:?} line in wrk's output:\n{stdout}"))?;
    serde_json::from_str(line).with_context(|| format!("malformed result line {line:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str =
        "Running 1s test @ http://127.0.0.1:8090/\n  2 threads and 32 connections\n\
        Requests/sec:  41234.56\nBENCH-RESULT {\"requests\":41234,\"duration_us\":1000100,\
        \"socket_errors\":0,\"status_errors\":3,\"p50_us\":650,\"p99_us\":2100}\n";

    #[test]
    fn the_result_line_is_found_among_wrks_own_output() {
        let m = parse(OUTPUT).unwrap();
        assert_eq!(m.requests, 41234);
        assert_eq!(m.successes(), 41231);
        assert_eq!(m.p99_us, 2100.0);
        assert!((m.requests_per_second() - 41229.9).abs() < 0.1);
    }

    #[test]
    fn output_without_a_result_line_is_an_error_that_shows_it() {
        let error = parse("Running 1s test\n").unwrap_err();
        assert!(format!("{error:#}").contains("Running 1s test"));
    }
}
