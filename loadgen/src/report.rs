//! The run's own summary, beside Goose's HTML and JSON reports: requests, rate,
//! p50/p95/p99 per transaction, errors, the slowest requests with their trace
//! ids, and a verdict per SLO. Written as `summary.md` and `summary.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use goose::metrics::{GooseMetrics, GooseRequestMetricAggregate};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::progress::SlowRequest;
use crate::slo::gate::Verdict;
use crate::slo::trim;

/// Everything the summary says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub profile: String,
    pub host: String,
    pub test_plan: String,
    pub started_at: String,
    pub duration_seconds: usize,
    pub interrupted: bool,
    pub requests: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub slo_source: String,
    /// Every SLO held and no other threshold failed.
    pub passed: bool,
    pub verdicts: Vec<Verdict>,
    /// Thresholds given on the command line that failed (not SLOs).
    pub other_failed_thresholds: Vec<String>,
    pub per_request: Vec<RequestRow>,
    pub transactions: Vec<TransactionRow>,
    pub errors: Vec<ErrorRow>,
    pub slowest: Vec<SlowRequest>,
    /// Goose's aggregate per request name, with its response-time buckets:
    /// what `loadgen merge` adds up over several loadgen pods and judges
    /// again with the same gate.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub goose_requests: BTreeMap<String, GooseRequestMetricAggregate>,
}

/// One request name's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRow {
    /// `GET /product/{slug}`: method and route pattern.
    pub name: String,
    pub requests: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Status code to count.
    pub status_codes: BTreeMap<u16, usize>,
}

/// One named transaction of one scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransactionRow {
    pub scenario: String,
    pub name: String,
    pub runs: u64,
    pub failures: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorRow {
    pub request: String,
    pub error: String,
    pub occurrences: usize,
}

/// Per-request rows, sorted by name.
pub fn request_rows(metrics: &GooseMetrics) -> Vec<RequestRow> {
    let seconds = metrics.duration.max(1) as f64;
    let mut rows: Vec<RequestRow> = metrics
        .requests
        .iter()
        .map(|(name, a)| {
            let ms = |p: f32| a.raw_data.percentile_us(p) as f64 / 1000.0;
            let count = (a.success_count + a.fail_count) as u64;
            RequestRow {
                name: name.clone(),
                requests: count,
                failures: a.fail_count as u64,
                requests_per_second: count as f64 / seconds,
                p50_ms: ms(0.50),
                p95_ms: ms(0.95),
                p99_ms: ms(0.99),
                max_ms: a.raw_data.maximum_time_us as f64 / 1000.0,
                status_codes: a.status_code_counts.iter().map(|(k, v)| (*k, *v)).collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// Named transactions (set-up and tear-down ones have no name).
pub fn transaction_rows(metrics: &GooseMetrics) -> Vec<TransactionRow> {
    let mut rows: Vec<TransactionRow> = Vec::new();
    for t in metrics.transactions.iter().flatten() {
        let name = t.transaction_name.name_for_transaction();
        if name.is_empty() {
            continue;
        }
        let scenario = t.scenario_name.to_string();
        // A transaction registered twice (the shopper views two products)
        // is one row.
        match rows
            .iter_mut()
            .find(|r| r.scenario == scenario && r.name == name)
        {
            Some(row) => {
                row.runs += (t.success_count + t.fail_count) as u64;
                row.failures += t.fail_count as u64;
            }
            None => rows.push(TransactionRow {
                scenario,
                name: name.to_string(),
                runs: (t.success_count + t.fail_count) as u64,
                failures: t.fail_count as u64,
            }),
        }
    }
    rows
}

pub fn error_rows(metrics: &GooseMetrics) -> Vec<ErrorRow> {
    let mut rows: Vec<ErrorRow> = metrics
        .errors
        .values()
        .map(|e| ErrorRow {
            request: format!("{} {}", e.method, e.name),
            error: e.error.clone(),
            occurrences: e.occurrences,
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.occurrences));
    rows
}

impl Summary {
    /// Write `summary.md` and `summary.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a summary always serialises");
        write(&dir.join("summary.json"), &json)?;
        write(&dir.join("summary.md"), &self.markdown())
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let verdict = if self.passed { "PASS" } else { "FAIL" };
        let _ = writeln!(md, "# Load test `{}`: {verdict}\n", self.profile);
        let _ = writeln!(md, "- target: {}", self.host);
        let _ = writeln!(md, "- test plan: `{}`", self.test_plan);
        let _ = writeln!(md, "- started: {}", self.started_at);
        let _ = writeln!(
            md,
            "- duration: {} s{}",
            self.duration_seconds,
            if self.interrupted {
                " (interrupted with Ctrl-C)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            md,
            "- requests: {} ({} req/s), failed: {}",
            self.requests,
            trim(round1(self.requests_per_second)),
            self.failures
        );
        let _ = writeln!(md, "- objectives from: {}\n", self.slo_source);

        md.push_str(
            "## SLO verdicts\n\n| SLO | objective | measured | result |\n|---|---|---|---|\n",
        );
        for v in &self.verdicts {
            let measured = v.measured_percent.map_or("no events".to_string(), |m| {
                format!("{} % of {}", trim(round2(m)), v.total)
            });
            let result = if v.held {
                "held".to_string()
            } else {
                format!("**BREACHED**: {}", failed_rules(v))
            };
            let _ = writeln!(
                md,
                "| {} | {} | {measured} | {result} |",
                v.objective, v.description
            );
        }
        for other in &self.other_failed_thresholds {
            let _ = writeln!(md, "\nThreshold `{other}` (not an SLO) failed.");
        }

        md.push_str("\n## Requests\n\n| request | count | failed | req/s | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.per_request {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                r.name,
                r.requests,
                r.failures,
                trim(round1(r.requests_per_second)),
                trim(round1(r.p50_ms)),
                trim(round1(r.p95_ms)),
                trim(round1(r.p99_ms)),
                trim(round1(r.max_ms))
            );
        }

        md.push_str("\n## Transactions\n\n| scenario | transaction | runs | failed |\n|---|---|---:|---:|\n");
        for t in &self.transactions {
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} |",
                t.scenario, t.name, t.runs, t.failures
            );
        }

        if !self.errors.is_empty() {
            md.push_str("\n## Errors\n\n| count | request | error |\n|---:|---|---|\n");
            for e in &self.errors {
                let _ = writeln!(
                    md,
                    "| {} | `{}` | {} |",
                    e.occurrences,
                    e.request,
                    e.error.replace('|', "\\|")
                );
            }
        }

        if !self.slowest.is_empty() {
            md.push_str("\n## Slowest requests\n\nFind them in the shop's logs and traces by trace id.\n\n| ms | status | request | path | trace id |\n|---:|---:|---|---|---|\n");
            for s in &self.slowest {
                let _ = writeln!(
                    md,
                    "| {} | {} | `{}` | `{}` | `{}` |",
                    trim(round1(s.millis)),
                    s.status,
                    s.request,
                    s.path,
                    s.trace_id
                );
            }
        }
        md
    }
}

fn failed_rules(verdict: &Verdict) -> String {
    verdict
        .rules
        .iter()
        .filter(|r| !r.passed)
        .map(|r| format!("`{}`: {}", r.rule, r.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

pub(crate) fn write(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}
