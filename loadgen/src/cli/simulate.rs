//! `loadgen hpa --simulate PROFILE`: the options and the command.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::error::{exit, Error, Result};
use crate::simulate::behavior::Autoscaler;
use crate::simulate::demand::Demand;
use crate::simulate::{self, chart, Pods, Simulation};
use crate::slo::source::{ObjectiveSource, SloFile};
use crate::slo::trim;

/// The options of `loadgen hpa` that only a simulation reads.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Replay the HPA against a demand profile instead of writing one:
    /// `spike`, `ramp`, `daily` (scaled to --peak-rps), or a CSV file of
    /// `seconds,requests_per_second`. Exit 1 when the simulated SLO breaks.
    #[arg(long, value_name = "PROFILE")]
    pub simulate: Option<String>,
    /// The HPA to replay. Its `peak-rps` annotation is the default peak.
    #[arg(long, value_name = "FILE", default_value = "k8s/base/hpa.yaml")]
    pub hpa: PathBuf,
    /// How long a new pod takes to become ready (scheduling, image pull,
    /// start-up, readiness probe).
    #[arg(long, default_value = "30s", value_parser = super::timespan, value_name = "TIME")]
    pub pod_startup: Duration,
    /// The window the per-pod request rate is averaged over (the adapter
    /// rule's `rate(...[2m])`).
    #[arg(long, default_value = "2m", value_parser = super::timespan, value_name = "TIME")]
    pub metric_window: Duration,
    /// Where simulation.json and simulation.png go. Default:
    /// reports/hpa-<profile>.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// The SLO spec (Sloth prometheus/v1). Default: alerts/slo.yaml as built in.
    #[arg(long, value_name = "FILE")]
    pub slo: Option<PathBuf>,
}

/// Run the simulation; the exit code.
pub fn run(
    profile: &str,
    args: &SimulateArgs,
    capacity_path: &Path,
    peak_rps: Option<f64>,
) -> Result<u8> {
    let manifest = std::fs::read_to_string(&args.hpa).map_err(|source| Error::Read {
        path: args.hpa.clone(),
        source,
    })?;
    let hpa = Autoscaler::from_manifest(&manifest)
        .map_err(|e| Error::Usage(format!("{}: {e}", args.hpa.display())))?;
    let capacity_rps = per_replica_capacity(capacity_path)?;
    let peak = match peak_rps {
        Some(peak) if peak > 0.0 && peak.is_finite() => peak,
        Some(peak) => {
            return Err(Error::Usage(format!(
                "--peak-rps must be above 0, not {peak}"
            )))
        }
        None => crate::hpa::recorded_inputs(&manifest)
            .map(|inputs| inputs.0)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{} records no peak-rps annotation: give --peak-rps",
                    args.hpa.display()
                ))
            })?,
    };
    let demand = Demand::load(profile, peak).map_err(|e| Error::Usage(e.to_string()))?;
    let slo = SloFile::new(args.slo.clone());
    let objectives: Vec<(String, f64)> = slo
        .objectives()
        .map_err(|source| Error::Slo {
            origin: slo.origin(),
            source,
        })?
        .into_iter()
        .map(|o| (o.name, o.objective_percent))
        .collect();
    let pods = Pods {
        capacity_rps,
        startup_seconds: args.pod_startup.as_secs() as usize,
        metric_window_seconds: args.metric_window.as_secs() as usize,
    };
    let simulation = simulate::simulate(&hpa, &pods, &demand, &objectives)
        .map_err(|e| Error::Usage(e.to_string()))?;

    let dir = args.report_dir.clone().unwrap_or_else(|| {
        let stem = Path::new(profile)
            .file_stem()
            .map_or_else(|| profile.to_string(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("reports").join(format!("hpa-{stem}"))
    });
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let json = serde_json::to_string_pretty(&simulation).expect("a simulation always serialises");
    crate::report::write(&dir.join("simulation.json"), &(json + "\n"))?;
    let png = dir.join("simulation.png");
    chart::draw(&simulation, &png).map_err(|reason| Error::Write {
        path: png.clone(),
        source: std::io::Error::other(reason),
    })?;
    eprint!("{}", summary(&simulation, &args.hpa, capacity_path));
    eprintln!(
        "report: {} and {}",
        dir.join("simulation.json").display(),
        png.display()
    );
    Ok(if simulation.held {
        exit::OK
    } else {
        exit::BREACH
    })
}

/// The few lines printed after a simulation.
pub fn summary(sim: &Simulation, hpa: &Path, capacity: &Path) -> String {
    let first = sim.timeline.first().map_or(0, |t| t.replicas);
    let mut text = format!(
        "simulated {} ({} s, peak {} req/s) against {}: {}-{} replicas, target {} req/s per pod; {} req/s per replica from {}; pods ready {} s after creation, sync every {} s, rate over {} s\n",
        sim.profile,
        sim.seconds,
        trim(sim.peak_rps),
        hpa.display(),
        sim.min_replicas,
        sim.max_replicas,
        trim(sim.target_rps_per_pod),
        trim(sim.capacity_rps_per_replica),
        capacity.display(),
        sim.pod_startup_seconds,
        sim.sync_period_seconds,
        sim.metric_window_seconds,
    );
    text.push_str(&format!(
        "replicas {first} at the start, {} at most; {} s with demand above ready capacity; {} of {} requests above it ({} %)\n",
        sim.highest_replicas,
        sim.overloaded_seconds,
        sim.bad_requests,
        sim.requests,
        trim(if sim.requests > 0.0 { sim.bad_requests / sim.requests * 100.0 } else { 0.0 }),
    ));
    for v in &sim.verdicts {
        let verdict = if v.held { "held" } else { "BREACHED" };
        text.push_str(&format!(
            "SLO {} ({} %): {verdict}, {} x the error budget of the simulated period\n",
            v.objective,
            trim(v.objective_percent),
            trim(v.budget_spent)
        ));
    }
    text
}

/// One replica's capacity from a capacity file: only the figure is read, so
/// that other fields of the format can change.
fn per_replica_capacity(path: &Path) -> Result<f64> {
    #[derive(Deserialize)]
    struct File {
        /// `null` when no step held; absent in a file of another format.
        capacity: serde_json::Value,
        #[serde(default)]
        stopped_because: String,
    }
    #[derive(Deserialize)]
    struct Figure {
        requests_per_second: f64,
    }
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let not_capacity = |e: serde_json::Error| {
        Error::Usage(format!(
            "{} is not a capacity file written by `loadgen capacity`: {e}",
            path.display()
        ))
    };
    let file: File = serde_json::from_str(&text).map_err(not_capacity)?;
    if file.capacity.is_null() {
        return Err(Error::Usage(format!(
            "{} has no capacity figure: no step held the SLOs ({})",
            path.display(),
            file.stopped_because
        )));
    }
    let figure: Figure = serde_json::from_value(file.capacity).map_err(not_capacity)?;
    Ok(figure.requests_per_second)
}
