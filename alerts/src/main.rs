//! `alerts`: SLO spec to Prometheus rules.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use alerts::{
    analysis::{self, ANALYSIS_TEMPLATE_PATH, DEFAULT_PROMETHEUS_ADDRESS},
    generate::{self, Options, DEFAULT_RUNBOOK_BASE_URL, GENERATED_DIR},
    period::Period,
    promql::parse_duration,
    spec::{Indicator, SloSpec, SHIPPED_PATH},
};
use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    version,
    about = "SLOs to alerts: a Sloth prometheus/v1 spec to Prometheus rules"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the recording and alerting rules.
    Generate {
        /// The SLO spec.
        #[arg(long, default_value = SHIPPED_PATH)]
        slo: PathBuf,
        /// The output directory.
        #[arg(long, default_value = GENERATED_DIR)]
        out: PathBuf,
        /// The SLO period: 30d, 28d or 7d.
        #[arg(long, default_value = "30d", value_parser = parse_period)]
        period: Period,
        /// `for:` on the page alerts, such as 2m (none by default).
        #[arg(long, value_parser = parse_for)]
        page_for: Option<Duration>,
        /// `for:` on the ticket alerts (none by default).
        #[arg(long, value_parser = parse_for)]
        ticket_for: Option<Duration>,
        /// Prefix of every runbook_url: an absolute URL where alerts/runbooks/
        /// can be browsed (a pager or chat message links it as is).
        #[arg(long, default_value = DEFAULT_RUNBOOK_BASE_URL, value_parser = parse_base_url)]
        runbook_base_url: String,
        /// Write nothing; fail if the files in --out differ from a fresh generation.
        #[arg(long)]
        check: bool,
    },
    /// Write the Argo Rollouts AnalysisTemplate that judges a canary by the
    /// availability and latency SLOs' fast page thresholds.
    AnalysisTemplate {
        /// The SLO spec.
        #[arg(long, default_value = SHIPPED_PATH)]
        slo: PathBuf,
        /// The output file.
        #[arg(long, default_value = ANALYSIS_TEMPLATE_PATH)]
        out: PathBuf,
        /// The SLO period: 30d, 28d or 7d.
        #[arg(long, default_value = "30d", value_parser = parse_period)]
        period: Period,
        /// Prometheus' base URL as Argo Rollouts' controller reaches it.
        #[arg(long, default_value = DEFAULT_PROMETHEUS_ADDRESS)]
        prometheus_address: String,
        /// Write nothing; fail if --out differs from a fresh generation.
        #[arg(long)]
        check: bool,
    },
    /// Validate a spec and summarise its SLOs.
    Check {
        /// The SLO spec.
        #[arg(long, default_value = SHIPPED_PATH)]
        slo: PathBuf,
    },
}

fn parse_period(text: &str) -> Result<Period, String> {
    text.parse().map_err(|e: alerts::Error| e.to_string())
}

fn parse_base_url(text: &str) -> Result<String, String> {
    generate::parse_runbook_base_url(text).map_err(|e| e.to_string())
}

fn parse_for(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Generate {
            slo,
            out,
            period,
            page_for,
            ticket_for,
            runbook_base_url,
            check,
        } => {
            let spec = SloSpec::load(&slo)?;
            let options = Options {
                period,
                page_for,
                ticket_for,
                runbook_base_url,
            };
            let source = slo.file_name().map_or_else(
                || slo.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let files = generate::generate(&spec, &source, &options)?;
            if check {
                let stale = generate::stale(&out, &files);
                if !stale.is_empty() {
                    let list: Vec<_> = stale.iter().map(|p| p.display().to_string()).collect();
                    anyhow::bail!(
                        "out of date: {}; run `cargo run -p alerts -- generate`",
                        list.join(", ")
                    );
                }
                println!("{}: up to date", out.display());
            } else {
                for path in generate::write(&out, &files)
                    .with_context(|| format!("writing the rules into {}", out.display()))?
                {
                    println!("wrote {}", path.display());
                }
            }
        }
        Command::AnalysisTemplate {
            slo,
            out,
            period,
            prometheus_address,
            check,
        } => analysis_template(&slo, &out, period, &prometheus_address, check)?,
        Command::Check { slo } => {
            let spec = SloSpec::load(&slo)?;
            println!(
                "{}: valid, service {}, {} SLOs",
                slo.display(),
                spec.service,
                spec.slos.len()
            );
            for slo in &spec.slos {
                let measures = match slo.indicator() {
                    Indicator::Availability { .. } => "requests without a server error".to_owned(),
                    Indicator::Latency {
                        threshold_seconds, ..
                    } => format!("requests faster than {threshold_seconds} s"),
                    Indicator::Checkout { .. } => "checkouts the shop did not fail".to_owned(),
                    Indicator::Other => "custom indicator".to_owned(),
                };
                println!("  {:<14} {:>6} %  {measures}", slo.name, slo.objective);
            }
        }
    }
    Ok(())
}

fn analysis_template(
    slo: &Path,
    out: &Path,
    period: Period,
    prometheus_address: &str,
    check: bool,
) -> anyhow::Result<()> {
    let spec = SloSpec::load(slo)?;
    let options = Options {
        period,
        ..Options::default()
    };
    let text = analysis::analysis_template(
        &spec,
        &slo.display().to_string(),
        &options,
        prometheus_address,
    )?;
    if check {
        if std::fs::read_to_string(out).ok().as_deref() != Some(text.as_str()) {
            anyhow::bail!(
                "out of date: {}; run `cargo run -p alerts -- analysis-template`",
                out.display()
            );
        }
        println!("{}: up to date", out.display());
    } else {
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
