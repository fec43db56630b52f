//! The command line: `loadgen run`, `loadgen capacity`, `loadgen hpa`
//! (and `loadgen hpa --simulate`, in [`simulate`]), `loadgen merge`,
//! `loadgen flood`.

pub mod capacity;
pub mod merge;
pub mod simulate;

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use goose::config::GooseConfiguration;

use crate::error::{exit, Error, Result};
use crate::flood::{self, FloodOptions};
use crate::hpa::{self, HpaInput};
use crate::profiles::Profile;
use crate::run::{self, RunOptions};
use crate::slo::source::SloFile;

/// Load tests for the shop: Goose scenarios, named profiles, an SLO gate and
/// capacity measurement.
///
/// Exit codes: 0 every SLO held; 1 an SLO was breached (named on stderr);
/// 2 usage error, unreachable target, or any other failure to run.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
pub struct Cli {
    /// Threads the users run on: one per core by default. On a 2-core
    /// machine shared with the server, one thread sent the most requests
    /// in `loadgen flood`.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<NonZeroUsize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load profile against the shop; exit 1 if an SLO breaks.
    Run(Box<RunArgs>),
    /// Measure one shop replica under its pod's CPU limit at request-rate
    /// steps: the highest rate at which every SLO held, and its CPU.
    Capacity(capacity::CapacityArgs),
    /// Size the HorizontalPodAutoscaler from a capacity measurement, or
    /// (--simulate) replay it against a demand profile.
    Hpa(HpaArgs),
    /// Add up the summaries of several loadgen runs (one per pod of an
    /// Indexed Job) and judge them as one run; exit 1 if an SLO breaks.
    Merge(merge::MergeArgs),
    /// Send one GET as fast as the users can, unchecked, and print the rate
    /// as JSON: measures loadgen itself (bench/run.sh compares it with wrk).
    Flood(FloodArgs),
}

#[derive(Debug, Args)]
pub struct FloodArgs {
    /// The base URL.
    #[arg(long, short = 'H', value_name = "URL")]
    pub host: String,
    /// The path every request asks for.
    #[arg(long, default_value = "/")]
    pub path: String,
    /// Users, each with one connection and no think time.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub users: usize,
    /// How long to flood, as 30s, 2m or 1m30s.
    #[arg(long, default_value = "10s", value_parser = timespan, value_name = "TIME")]
    pub run_time: Duration,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The load profile: a Goose test plan, shown in brackets.
    #[arg(long, value_enum, default_value_t = Profile::Smoke)]
    pub profile: Profile,
    /// Where the reports go: report.html and report.json (Goose's),
    /// summary.md and summary.json, requests.json (every request, with its
    /// traceparent). Default: reports/<profile>-<time>.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// The SLO spec (Sloth prometheus/v1). Default: alerts/slo.yaml as built in.
    #[arg(long, value_name = "FILE")]
    pub slo: Option<PathBuf>,
    /// Do not write the request log.
    #[arg(long)]
    pub no_request_log: bool,
    /// Run this pod's share of the users only: pod INDEX of COUNT (from 0),
    /// as the pods of an Indexed Job; `loadgen merge` adds their reports up.
    #[arg(long, value_name = "INDEX/COUNT")]
    pub shard: Option<crate::shard::Shard>,
    /// Goose's own options; `--users`, `--run-time` or `--test-plan` replace
    /// the profile's plan.
    #[command(flatten)]
    pub goose: GooseConfiguration,
}

#[derive(Debug, Args)]
pub struct HpaArgs {
    /// The measurement written by `loadgen capacity`.
    #[arg(long, value_name = "FILE", default_value = "k8s/base/capacity.json")]
    pub capacity: PathBuf,
    /// The forecast peak, in requests per second over all replicas. With
    /// --simulate, the built-in profiles' peak (default: the HPA's record).
    #[arg(long, value_name = "RPS", required_unless_present = "simulate")]
    pub peak_rps: Option<f64>,
    /// Share of the measured capacity each replica is asked to carry.
    #[arg(long, default_value_t = 0.7)]
    pub headroom: f64,
    /// Replicas kept whatever the load: one can be drained or killed while
    /// the other serves.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub min_replicas: u32,
    /// Replicas allowed at most, whatever the peak asks: each holds database
    /// connections (10 × 10 fit PostgreSQL's 200 with room for a rollout).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_replicas: u32,
    /// The Deployment to scale.
    #[arg(long, default_value = "shop", value_name = "NAME")]
    pub deployment: String,
    /// Where the manifest goes; `-` for stdout.
    #[arg(
        long,
        short = 'o',
        default_value = "k8s/base/hpa.yaml",
        value_name = "FILE"
    )]
    pub output: PathBuf,
    #[command(flatten)]
    pub simulation: simulate::SimulateArgs,
}

fn timespan(text: &str) -> Result<Duration, String> {
    goose::util::parse_timespan(text)
        .map(|secs| Duration::from_secs(secs as u64))
        .ok_or_else(|| format!("{text:?} is not a time span such as 30s, 2m or 1m30s"))
}

/// Run a command; the exit code.
pub async fn dispatch(cli: Cli) -> u8 {
    let outcome = match cli.command {
        Command::Run(args) => run_command(*args).await,
        Command::Capacity(args) => capacity::run(args).await,
        Command::Hpa(args) => hpa_command(args),
        Command::Merge(args) => merge::run(args),
        Command::Flood(args) => flood_command(args).await,
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", crate::attack::cause_chain(&error));
            exit::ERROR
        }
    }
}

async fn run_command(args: RunArgs) -> Result<u8> {
    let report_dir = args.report_dir.unwrap_or_else(|| {
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        PathBuf::from("reports").join(format!("{}-{stamp}", args.profile.name()))
    });
    let options = RunOptions {
        profile: args.profile,
        report_dir,
        request_log: !args.no_request_log,
        shard: args.shard,
    };
    let result = run::run(&options, args.goose, &SloFile::new(args.slo)).await?;
    let summary = &result.summary;
    eprintln!(
        "{} requests in {} s ({:.1} req/s), {} failed; reports in {}",
        summary.requests,
        summary.duration_seconds,
        summary.requests_per_second,
        summary.failures,
        result.report_dir.display()
    );
    if summary.interrupted {
        eprintln!("interrupted with Ctrl-C: the reports cover the run so far");
    }
    for verdict in &summary.verdicts {
        if verdict.held {
            eprintln!("SLO {} held", verdict.objective);
        } else {
            eprintln!("{}", verdict.explain());
        }
    }
    for other in &summary.other_failed_thresholds {
        eprintln!("threshold {other} failed");
    }
    Ok(if result.passed() {
        exit::OK
    } else {
        exit::BREACH
    })
}

async fn flood_command(args: FloodArgs) -> Result<u8> {
    let options = FloodOptions {
        host: args.host,
        path: args.path,
        users: args.users,
        run_time: args.run_time,
    };
    let result = flood::flood(&options).await?;
    println!("{}", result.json());
    Ok(exit::OK)
}

fn hpa_command(args: HpaArgs) -> Result<u8> {
    if let Some(profile) = &args.simulation.simulate {
        return simulate::run(profile, &args.simulation, &args.capacity, args.peak_rps);
    }
    let peak_rps = args
        .peak_rps
        .ok_or_else(|| Error::Usage("--peak-rps is required".into()))?;
    let capacity = crate::capacity::read_file(&args.capacity)?;
    let capacity_path = args.capacity.display().to_string();
    let input = HpaInput {
        capacity: &capacity,
        capacity_path: &capacity_path,
        peak_rps,
        headroom: args.headroom,
        min_replicas: args.min_replicas,
        max_replicas: args.max_replicas,
        deployment: &args.deployment,
    };
    let manifest = hpa::manifest(&input).map_err(|e| Error::Usage(e.to_string()))?;
    let sizing = hpa::sizing(&input).map_err(|e| Error::Usage(e.to_string()))?;
    if sizing.capped {
        eprintln!(
            "warning: the peak of {} req/s needs {} replicas, but --max-replicas allows {}",
            peak_rps, sizing.replicas_at_peak, args.max_replicas
        );
    }
    if args.output.as_os_str() == "-" {
        print!("{manifest}");
    } else {
        if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        crate::report::write(&args.output, &manifest)?;
        eprintln!(
            "{}: {} to {} replicas, {} req/s per replica ({} at the peak of {} req/s)",
            args.output.display(),
            sizing.min_replicas,
            sizing.max_replicas,
            sizing.target_rps_per_replica,
            sizing.replicas_at_peak,
            peak_rps
        );
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_goose_options_beside_its_own() {
        let cli = Cli::try_parse_from([
            "loadgen",
            "run",
            "--host",
            "http://127.0.0.1:1",
            "--profile",
            "load",
            "--co-mitigation",
            "average",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(args.profile, Profile::Load);
        assert_eq!(args.goose.host.as_deref(), Some("http://127.0.0.1:1"));
        assert!(args.goose.co_mitigation.is_some());
    }

    #[test]
    fn an_unknown_profile_is_a_usage_error() {
        let error = Cli::try_parse_from(["loadgen", "run", "--profile", "huge"]).unwrap_err();
        assert_eq!(error.exit_code(), i32::from(exit::ERROR));
    }

    #[test]
    fn step_durations_read_as_goose_time_spans() {
        assert_eq!(timespan("1m30s"), Ok(Duration::from_secs(90)));
        assert!(timespan("soon").is_err());
    }
}
