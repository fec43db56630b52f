//! `loadgen merge DIR...`: the options and the command.

use std::path::PathBuf;

use clap::Args;

use crate::error::{exit, Error, Result};
use crate::merge;
use crate::slo::source::{ObjectiveSource, SloFile};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The report directories (or summary.json files) of the loadgen runs
    /// to add up, such as one per pod of an Indexed Job.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where the merged summary.md and summary.json go.
    #[arg(long, default_value = "reports/merged", value_name = "DIR")]
    pub report_dir: PathBuf,
    /// The SLO spec (Sloth prometheus/v1). Default: alerts/slo.yaml as built in.
    #[arg(long, value_name = "FILE")]
    pub slo: Option<PathBuf>,
}

/// Merge, write, report; exit 1 when the merged run breaches an SLO.
pub fn run(args: MergeArgs) -> Result<u8> {
    let parts = merge::read_all(&args.dirs)?;
    let slo = SloFile::new(args.slo);
    let objectives = slo.objectives().map_err(|source| Error::Slo {
        origin: slo.origin(),
        source,
    })?;
    let summary = merge::merge(&parts, objectives)?;
    std::fs::create_dir_all(&args.report_dir).map_err(|source| Error::Write {
        path: args.report_dir.clone(),
        source,
    })?;
    summary.write(&args.report_dir)?;
    eprintln!(
        "{} runs merged: {} requests in {} s ({:.1} req/s), {} failed; summary in {}",
        parts.len(),
        summary.requests,
        summary.duration_seconds,
        summary.requests_per_second,
        summary.failures,
        args.report_dir.display()
    );
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
    Ok(if summary.passed {
        exit::OK
    } else {
        exit::BREACH
    })
}
