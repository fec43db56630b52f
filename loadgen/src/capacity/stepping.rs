//! The steps: one Goose run per offered rate. Goose's throttle spaces the
//! requests of all users at the offered rate, so the rate, not the user
//! count, is what varies; the users only bound the requests in flight, and
//! there are many more of them than a replica serves at once, so that a
//! saturated replica queues requests and breaks the latency objective as it
//! would under real shoppers. Where the users do wait, the rate sent falls
//! behind the offered one (coordinated omission), which this run does not
//! hide: each step records the offered, the sent and the served rate (the
//! last from the replica's own counters), and stepping stops when a higher
//! offered rate is served no faster ([`saturated`]). Goose's throttle sends
//! less than it is asked even to an idle shop (about 85 % here), so the sent
//! rate, not the offered one, is the honest load.
//!
//! Each step is measured over a window that starts after the users are
//! running and ends before they stop: a scrape of `/metrics` and the CPU time
//! at each end.

use std::path::PathBuf;
use std::time::Duration;

use alerts::spec::SloSpec;
use goose::metrics::GooseCoordinatedOmissionMitigation;
use shop_contract::metrics::names;

use super::limit::PodCpu;
use super::pod::{self, Pod, Scrape};
use super::{round2, sli, Build, CapacityFile, CpuSettings, LoadSettings, Machine, Step};
use crate::attack;
use crate::error::{Error, Result};
use crate::scenarios::Pace;
use crate::slo::gate;
use crate::slo::trim;

/// A step that serves less than this much more than the step before shows
/// a saturated pod: loading it harder proves nothing new.
pub const GROWTH: f64 = 1.02;

/// CPU use, as a share of the limit, at which a pod that serves no faster
/// counts as saturated itself rather than starved of load.
const POD_SATURATED_PERCENT: f64 = 90.0;

/// Whether `step` served no faster than `before` did.
pub fn saturated(before: &Step, step: &Step) -> bool {
    step.requests_per_second < before.requests_per_second * GROWTH
}

/// How long the users take to start.
const RAMP: Duration = Duration::from_secs(1);

/// What to measure and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// A shop already running (`url`, `admin url`) instead of one started
    /// here: the cluster's capacity pod.
    pub remote: Option<(String, String)>,
    pub binary: PathBuf,
    /// A database URL of the PostgreSQL server to create the database on.
    pub database_server: String,
    pub cpu: PodCpu,
    pub cpu_source: String,
    pub start_rps: usize,
    pub step_rps: usize,
    pub max_rps: usize,
    pub step_duration: Duration,
    pub users: usize,
    pub replicas: usize,
    pub spec: SloSpec,
    pub slo_source: String,
}

impl Options {
    /// The offered rates, lowest first.
    pub fn rates(&self) -> Vec<usize> {
        (self.start_rps.max(1)..=self.max_rps)
            .step_by(self.step_rps.max(1))
            .collect()
    }
}

/// Measure, printing a line per step; the file to write.
pub async fn measure(options: &Options) -> Result<CapacityFile> {
    let rates = options.rates();
    if rates.is_empty() {
        return Err(Error::Usage(format!(
            "--start-rps {} is above --max-rps {}",
            options.start_rps, options.max_rps
        )));
    }
    if options.step_duration < Duration::from_secs(2) {
        return Err(Error::Usage("--step-duration must be at least 2s".into()));
    }
    let load_average_before = pod::load_average();
    let pod = match &options.remote {
        Some((url, admin_url)) => Pod::remote(url, admin_url)?,
        None => {
            Pod::start(
                &options.binary,
                &options.database_server,
                options.cpu.limit,
                options.replicas,
            )
            .await?
        }
    };
    let outcome = steps(&pod, options, &rates).await;
    let version = pod.version().await.unwrap_or_else(|_| "unknown".into());
    pod.stop().await?;
    let (steps, stopped_because) = outcome?;
    Ok(CapacityFile {
        format: super::FORMAT.into(),
        tool: concat!("loadgen ", env!("CARGO_PKG_VERSION")).into(),
        measured_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        build: Build {
            profile: match options.remote {
                Some(_) => "as deployed".into(),
                None => pod::build_profile(&options.binary),
            },
            binary: match &options.remote {
                Some((url, _)) => url.clone(),
                None => options.binary.display().to_string(),
            },
            version,
        },
        backend: match options.remote {
            Some(_) => "as deployed".into(),
            None => "postgresql".into(),
        },
        cpu: CpuSettings {
            limit_cores: options.cpu.limit.get(),
            request_cores: options.cpu.request,
            source: options.cpu_source.clone(),
        },
        load: LoadSettings {
            model: "open: request-rate steps, Goose's throttle spacing every user's requests at the offered rate, with more users than the replica serves at once; coordinated-omission mitigation (average) on the client times".into(),
            replicas: options.replicas,
            users: options.users,
            step_seconds: options.step_duration.as_secs_f64(),
        },
        machine: Machine {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            load_average_before,
        },
        slo_source: options.slo_source.clone(),
        objectives: options
            .spec
            .slos
            .iter()
            .map(|s| super::ObjectiveRecord {
                name: s.name.clone(),
                objective_percent: s.objective,
            })
            .collect(),
        capacity: super::best(&steps),
        steps,
        stopped_because,
    })
}

async fn steps(pod: &Pod, options: &Options, rates: &[usize]) -> Result<(Vec<Step>, String)> {
    let mut steps = Vec::new();
    println!("{}", header());
    for &rate in rates {
        let (step, interrupted) = step(pod, options, rate).await?;
        println!("{}", row(&step));
        let held = step.held;
        let flat = steps.last().is_some_and(|before| saturated(before, &step));
        let limited_by = if step.cpu_percent_of_limit >= POD_SATURATED_PERCENT {
            "the pod, at its CPU limit"
        } else {
            "loadgen, with the pod's CPU to spare"
        };
        steps.push(step);
        if interrupted {
            return Ok((steps, "interrupted with Ctrl-C".into()));
        }
        if !held {
            return Ok((steps, format!("the objectives broke at {rate} req/s")));
        }
        if flat {
            return Ok((
                steps,
                format!(
                    "{rate} req/s offered was served no faster than the step before: saturated ({limited_by})"
                ),
            ));
        }
    }
    Ok((steps, format!("reached --max-rps {}", options.max_rps)))
}

async fn step(pod: &Pod, options: &Options, rate: usize) -> Result<(Step, bool)> {
    let mut config = attack::base_config(&pod.url());
    config.co_mitigation = Some(GooseCoordinatedOmissionMitigation::Average);
    config.throttle_requests = Some(rate);
    config.no_print_metrics = true;
    config.quiet = 1;
    let hold = options.step_duration;
    let plan = format!(
        "{users},{}s;{users},{}s;0,0s",
        RAMP.as_secs(),
        hold.as_secs(),
        users = options.users
    );
    let settle = RAMP + (hold / 4).min(Duration::from_secs(2));
    let end = RAMP + hold - Duration::from_millis(100);
    let label = format!("capacity {rate} req/s");
    let window = async {
        tokio::time::sleep(settle).await;
        let sent = crate::progress::counters().requests;
        let before = pod.scrape().await?;
        tokio::time::sleep(end.saturating_sub(settle)).await;
        let after = pod.scrape().await?;
        let sent = crate::progress::counters().requests - sent;
        Ok::<_, Error>((before, after, sent))
    };
    let (outcome, window) = tokio::join!(
        attack::execute(config, Some(&plan), Pace::FLAT_OUT, &label),
        window
    );
    let outcome = outcome?;
    let (before, after, sent) = window?;
    let limit = options.cpu.limit.get() * options.replicas as f64;
    let mut step = judge(&options.spec, rate, &before, &after, limit).map_err(Error::Usage)?;
    let times = gate::merged_times(&outcome.metrics, |_| true, true);
    step.client_requests_per_second = round2(sent as f64 / step.seconds.max(1e-3));
    step.client_p50_ms = round2(times.percentile_us(0.50) as f64 / 1000.0);
    step.client_p99_ms = round2(times.percentile_us(0.99) as f64 / 1000.0);
    Ok((step, outcome.interrupted))
}

/// A step's figures and verdicts from the scrapes at the ends of its window.
pub fn judge(
    spec: &SloSpec,
    rate: usize,
    before: &Scrape,
    after: &Scrape,
    limit_cores: f64,
) -> Result<Step, String> {
    let seconds = after.at.duration_since(before.at).as_secs_f64().max(1e-3);
    let increase = sli::increase(&before.samples, &after.samples);
    let verdicts = sli::judge(spec, &increase)?;
    let count = format!("{}_count", names::HTTP_SERVER_REQUEST_DURATION);
    let requests: f64 = increase
        .iter()
        .filter(|s| s.name == count)
        .map(|s| s.value)
        .sum();
    let served = requests / seconds;
    let cpu_cores = (after.cpu_seconds - before.cpu_seconds).max(0.0) / seconds;
    let breaches: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.held)
        .map(sli::Verdict::explain)
        .collect();
    Ok(Step {
        target_rps: rate as f64,
        seconds: round2(seconds),
        requests: requests as u64,
        requests_per_second: round2(served),
        cpu_cores: round2(cpu_cores),
        cpu_percent_of_limit: round2(cpu_cores / limit_cores * 100.0),
        client_requests_per_second: 0.0,
        client_p50_ms: 0.0,
        client_p99_ms: 0.0,
        held: breaches.is_empty(),
        slis: verdicts,
        breaches,
    })
}

pub fn header() -> String {
    format!(
        "{:>8} {:>7} {:>9} {:>9} {:>11} {:>10} {:>10}  objectives (bad events % of the budget)",
        "offered", "sent/s", "served/s", "CPU", "% of limit", "client p50", "client p99"
    )
}

pub fn row(step: &Step) -> String {
    let slis: Vec<String> = step
        .slis
        .iter()
        .map(|v| match v.bad_ratio {
            Some(r) => format!("{} {}", v.slo, trim(round2(r / v.budget_ratio * 100.0))),
            None => format!("{} -", v.slo),
        })
        .collect();
    format!(
        "{:>8} {:>7} {:>9} {:>9} {:>11} {:>10} {:>10}  {}  {}",
        trim(step.target_rps),
        trim(step.client_requests_per_second),
        trim(step.requests_per_second),
        trim(step.cpu_cores),
        trim(step.cpu_percent_of_limit),
        trim(step.client_p50_ms),
        trim(step.client_p99_ms),
        slis.join(", "),
        if step.held {
            "held".to_string()
        } else {
            format!("BROKE: {}", step.breaches.join("; "))
        }
    )
}
