//! `loadgen capacity`: step the user count up, one Goose test plan per step
//! (`users,ramp;users,hold;0,0s`, users sending flat out, coordinated-omission
//! mitigation on), judge every step against the SLOs, and report the highest
//! request rate at which they all held. The first step that breaches ends the
//! search: past it the shop is over capacity, and loading it harder proves
//! nothing new.

use std::path::{Path, PathBuf};
use std::time::Duration;

use goose::metrics::{GooseCoordinatedOmissionMitigation, GooseMetrics};
use serde::{Deserialize, Serialize};

use crate::attack;
use crate::error::{Error, Result};
use crate::report;
use crate::routes::{self, RouteKind};
use crate::scenarios::Pace;
use crate::slo::gate::{self, Gate};
use crate::slo::source::ObjectiveSource;
use crate::slo::trim;
use crate::slo::Objective;

/// How to step the load.
#[derive(Debug, Clone)]
pub struct CapacityOptions {
    pub host: String,
    pub start_users: usize,
    pub step_users: usize,
    pub max_users: usize,
    /// How long each step holds its users.
    pub step_duration: Duration,
    /// How long each step takes to start its users.
    pub ramp: Duration,
    pub output: PathBuf,
}

/// `capacity.json`: the whole step table and the capacity figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityFile {
    /// `loadgen 0.1.0`.
    pub tool: String,
    pub host: String,
    /// CPUs of the machine that measured, shared by loadgen and, on
    /// loopback, the shop itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<usize>,
    /// RFC 3339, when the measurement ended.
    pub measured_at: String,
    pub step_duration_seconds: u64,
    pub ramp_seconds: u64,
    pub co_mitigation: String,
    pub slo_source: String,
    /// Each objective in words.
    pub objectives: Vec<String>,
    pub steps: Vec<Step>,
    /// The best step at which every SLO held; `None` when none did.
    pub capacity: Option<Capacity>,
    /// Why stepping stopped.
    pub stopped_because: String,
}

/// One step of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub users: usize,
    pub seconds: f64,
    /// Requests actually sent (not counting synthetic ones).
    pub requests: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub error_percent: f64,
    /// Over all requests, coordinated-omission corrected, in milliseconds.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// The slowest page route's p99 (what the latency SLO judges).
    pub page_p99_ms: f64,
    /// Requests Goose added to correct for coordinated omission.
    pub synthetic_requests: u64,
    pub slo_held: bool,
    /// Why each breached objective breached.
    pub breaches: Vec<String>,
}

/// The capacity figure: the highest sustained rate with every SLO held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub requests_per_second: f64,
    pub users: usize,
    pub p99_ms: f64,
    pub page_p99_ms: f64,
    pub error_percent: f64,
}

impl CapacityOptions {
    /// The user counts to step through, lowest first.
    pub fn user_steps(&self) -> Vec<usize> {
        let step = self.step_users.max(1);
        (self.start_users.max(1)..=self.max_users)
            .step_by(step)
            .collect()
    }

    fn test_plan(&self, users: usize) -> String {
        format!(
            "{users},{}s;{users},{}s;0,0s",
            self.ramp.as_secs(),
            self.step_duration.as_secs().max(1)
        )
    }
}

/// Measure, print each step as it finishes, and write `capacity.json`.
pub async fn capacity(
    options: &CapacityOptions,
    objectives: &dyn ObjectiveSource,
) -> Result<CapacityFile> {
    let slo = objectives.objectives().map_err(|source| Error::Slo {
        origin: objectives.origin(),
        source,
    })?;
    let user_steps = options.user_steps();
    if user_steps.is_empty() {
        return Err(Error::Usage(format!(
            "--start-users {} is above --max-users {}",
            options.start_users, options.max_users
        )));
    }
    attack::preflight(&options.host).await?;

    let mut steps = Vec::new();
    let mut stopped_because = format!("reached --max-users {}", options.max_users);
    println!("{}", table_header());
    for users in user_steps {
        let mut config = attack::base_config(&options.host);
        config.co_mitigation = Some(GooseCoordinatedOmissionMitigation::Average);
        config.no_print_metrics = true;
        config.quiet = 1;
        let plan = options.test_plan(users);
        let label = format!("capacity {users} users");
        let outcome = attack::execute(config, Some(&plan), Pace::FLAT_OUT, &label).await?;
        let step = measure(users, &outcome.metrics, &slo);
        println!("{}", table_row(&step));
        let held = step.slo_held;
        steps.push(step);
        if outcome.interrupted {
            stopped_because = "interrupted with Ctrl-C".into();
            break;
        }
        if !held {
            stopped_because = format!("the SLOs broke at {users} users");
            break;
        }
    }

    let file = CapacityFile {
        tool: concat!("loadgen ", env!("CARGO_PKG_VERSION")).into(),
        host: options.host.clone(),
        cpus: std::thread::available_parallelism().ok().map(usize::from),
        measured_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        step_duration_seconds: options.step_duration.as_secs(),
        ramp_seconds: options.ramp.as_secs(),
        co_mitigation: "average".into(),
        slo_source: objectives.origin(),
        objectives: slo.iter().map(|o| o.describe()).collect(),
        capacity: best(&steps),
        steps,
        stopped_because,
    };
    write_file(&options.output, &file)?;
    Ok(file)
}

/// The step with the highest rate among those before the first breach.
pub fn best(steps: &[Step]) -> Option<Capacity> {
    steps
        .iter()
        .take_while(|s| s.slo_held)
        .max_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second))
        .map(|s| Capacity {
            requests_per_second: s.requests_per_second,
            users: s.users,
            p99_ms: s.p99_ms,
            page_p99_ms: s.page_p99_ms,
            error_percent: s.error_percent,
        })
}

/// One step's figures from its metrics, judged against `objectives` for the
/// requests the step made (a step with fewer users than user types does not
/// make them all), on coordinated-omission-corrected times.
pub fn measure(users: usize, metrics: &GooseMetrics, objectives: &[Objective]) -> Step {
    let made: Vec<String> = metrics.requests.keys().cloned().collect();
    let verdicts = Gate::new(objectives.to_vec(), &made).evaluate(metrics, true);
    let requests: u64 = metrics
        .requests
        .values()
        .map(|a| a.raw_data.counter as u64)
        .sum();
    let failures: u64 = metrics.requests.values().map(|a| a.fail_count as u64).sum();
    let all = gate::merged_times(metrics, |_| true, true);
    let ms = |p: f32| round2(all.percentile_us(p) as f64 / 1000.0);
    let page_p99_ms = metrics
        .requests
        .iter()
        .filter(|(key, _)| routes::by_key(key).is_some_and(|r| r.kind == RouteKind::Page))
        .map(|(key, _)| gate::merged_times(metrics, |k| k == key, true).percentile_us(0.99))
        .max()
        .map_or(0.0, |us| round2(us as f64 / 1000.0));
    let seconds = step_seconds(metrics);
    let total = metrics
        .requests
        .values()
        .map(|a| (a.success_count + a.fail_count) as u64)
        .sum::<u64>();
    Step {
        users,
        seconds: round2(seconds),
        requests,
        failures,
        requests_per_second: round2(requests as f64 / seconds),
        error_percent: if total == 0 {
            0.0
        } else {
            round2(failures as f64 / total as f64 * 100.0)
        },
        p50_ms: ms(0.50),
        p95_ms: ms(0.95),
        p99_ms: ms(0.99),
        page_p99_ms,
        synthetic_requests: metrics
            .coordinated_omission_metrics
            .as_ref()
            .map_or(0, |co| co.synthetic_requests),
        slo_held: verdicts.iter().all(|v| v.held),
        breaches: verdicts
            .iter()
            .filter(|v| !v.held)
            .map(|v| v.explain())
            .collect(),
    }
}

/// The step's length from its test plan history (ramp included), to the
/// millisecond; Goose's own duration is whole seconds.
fn step_seconds(metrics: &GooseMetrics) -> f64 {
    let first = metrics.history.first().map(|h| h.timestamp);
    let last = metrics.history.last().map(|h| h.timestamp);
    match (first, last) {
        (Some(first), Some(last)) if last > first => {
            (last - first).num_milliseconds() as f64 / 1000.0
        }
        _ => metrics.duration.max(1) as f64,
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

pub fn table_header() -> String {
    format!(
        "{:>6} {:>10} {:>9} {:>9} {:>9} {:>9} {:>12} {:>8}  SLOs",
        "users", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors %", "page p99 ms", "requests"
    )
}

pub fn table_row(step: &Step) -> String {
    format!(
        "{:>6} {:>10} {:>9} {:>9} {:>9} {:>9} {:>12} {:>8}  {}",
        step.users,
        trim(step.requests_per_second),
        trim(step.p50_ms),
        trim(step.p95_ms),
        trim(step.p99_ms),
        trim(step.error_percent),
        trim(step.page_p99_ms),
        step.requests,
        if step.slo_held { "held" } else { "BREACHED" }
    )
}

pub fn write_file(path: &Path, file: &CapacityFile) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let json = serde_json::to_string_pretty(file).expect("a capacity file always serialises");
    report::write(path, &(json + "\n"))
}

pub fn read_file(path: &Path) -> Result<CapacityFile> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| Error::CapacityFile {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(users: usize, rps: f64, held: bool) -> Step {
        Step {
            users,
            seconds: 10.0,
            requests: (rps * 10.0) as u64,
            failures: 0,
            requests_per_second: rps,
            error_percent: 0.0,
            p50_ms: 1.0,
            p95_ms: 2.0,
            p99_ms: 3.0,
            page_p99_ms: 4.0,
            synthetic_requests: 0,
            slo_held: held,
            breaches: Vec::new(),
        }
    }

    #[test]
    fn capacity_is_the_fastest_step_before_the_first_breach() {
        let steps = [
            step(1, 100.0, true),
            step(2, 180.0, true),
            step(3, 170.0, true),
            step(4, 300.0, false),
        ];
        let best = best(&steps).unwrap();
        assert_eq!((best.users, best.requests_per_second), (2, 180.0));
    }

    #[test]
    fn no_capacity_when_the_first_step_breaches() {
        assert_eq!(best(&[step(1, 50.0, false), step(2, 90.0, true)]), None);
    }

    #[test]
    fn user_steps_climb_from_start_to_max() {
        let options = CapacityOptions {
            host: "http://127.0.0.1:1".into(),
            start_users: 2,
            step_users: 3,
            max_users: 11,
            step_duration: Duration::from_secs(5),
            ramp: Duration::from_secs(1),
            output: "capacity.json".into(),
        };
        assert_eq!(options.user_steps(), [2, 5, 8, 11]);
        assert_eq!(options.test_plan(5), "5,1s;5,5s;0,0s");
        assert!(options
            .test_plan(5)
            .parse::<goose::test_plan::TestPlan>()
            .is_ok());
    }
}
