//! `dashboards generate` writes the dashboards and provisioning files;
//! `dashboards render` draws their time series panels from a Prometheus.

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use dashboards::{
    boards,
    generate::{self, GENERATED_DIR, PROVISIONING_DIR},
    render::{self, ImageFormat, Prometheus, Window},
};

/// Grafana dashboards for the shop, written in Rust.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write every dashboard as Grafana JSON, and Grafana's provisioning files.
    Generate {
        /// Directory for the dashboard JSON.
        #[arg(long, default_value = GENERATED_DIR)]
        out: PathBuf,
        /// Directory for the provisioning files.
        #[arg(long, default_value = PROVISIONING_DIR)]
        provisioning: PathBuf,
        /// Write nothing; fail if the files differ from a fresh generation.
        #[arg(long)]
        check: bool,
    },
    /// Draw every time series panel from Prometheus data to PNG or SVG files.
    Render {
        /// Prometheus' base URL.
        #[arg(long, env = "PROMETHEUS_URL")]
        prometheus: String,
        /// Directory for the images.
        #[arg(long)]
        out: PathBuf,
        /// Start: Unix seconds, `now` or `now-<duration>` such as `now-1h`.
        #[arg(long, conflicts_with = "range")]
        from: Option<String>,
        /// End: Unix seconds, `now` or `now-<duration>`.
        #[arg(long, default_value = "now")]
        to: String,
        /// The last <duration>, such as `30m` (instead of --from).
        #[arg(long, default_value = "1h")]
        range: String,
        /// Only these dashboards (uids); all by default.
        #[arg(long = "dashboard")]
        dashboards: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Png)]
        format: Format,
        /// Prometheus' scrape interval, for `$__rate_interval`.
        #[arg(long, default_value = "15s")]
        scrape_interval: String,
        /// Points per chart.
        #[arg(long, default_value_t = 300)]
        points: u32,
        #[arg(long, default_value_t = 1000)]
        width: u32,
        #[arg(long, default_value_t = 420)]
        height: u32,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Png,
    Svg,
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
            out,
            provisioning,
            check,
        } => {
            let dashboards = generate::dashboard_files(&boards::all())?;
            let provisioning_files = generate::provisioning_files()?;
            if check {
                let mut stale = generate::stale(&out, &dashboards);
                stale.extend(generate::stale(&provisioning, &provisioning_files));
                if !stale.is_empty() {
                    let list: Vec<_> = stale.iter().map(|p| p.display().to_string()).collect();
                    bail!(
                        "out of date: {}; run `cargo run -p dashboards -- generate`",
                        list.join(", ")
                    );
                }
                eprintln!("dashboards and provisioning files are up to date");
                return Ok(());
            }
            for path in generate::write(&out, &dashboards)?
                .into_iter()
                .chain(generate::write(&provisioning, &provisioning_files)?)
            {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Render {
            prometheus,
            out,
            from,
            to,
            range,
            dashboards,
            format,
            scrape_interval,
            points,
            width,
            height,
        } => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .context("the clock is before 1970")?
                .as_secs_f64();
            let end = parse_time(&to, now)?;
            let start = match from {
                Some(from) => parse_time(&from, now)?,
                None => end - seconds(&range)?,
            };
            if start >= end {
                bail!("the time range is empty: --from must be before --to");
            }
            let options = render::Options {
                window: Window::with_points(start, end, points),
                scrape_interval_seconds: seconds(&scrape_interval)? as u64,
                format: match format {
                    Format::Png => ImageFormat::Png,
                    Format::Svg => ImageFormat::Svg,
                },
                size: (width, height),
            };
            let selected: Vec<serde_json::Value> = boards::all()
                .iter()
                .filter(|d| dashboards.is_empty() || dashboards.contains(&d.uid))
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            if selected.is_empty() {
                bail!("no dashboard has the uid(s) {}", dashboards.join(", "));
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let client = Prometheus::new(&prometheus)?;
            let written = runtime
                .block_on(render::render_dashboards(
                    &client, &selected, &options, &out,
                ))
                .with_context(|| format!("rendering from {prometheus}"))?;
            for path in &written {
                println!("{}", path.display());
            }
            eprintln!("{} charts written to {}", written.len(), out.display());
            Ok(())
        }
    }
}

fn seconds(duration: &str) -> anyhow::Result<f64> {
    Ok(alerts::promql::parse_duration(duration)
        .with_context(|| format!("`{duration}` is not a duration such as 90s, 30m or 1h"))?
        .as_secs_f64())
}

/// Unix seconds, `now`, or `now-<duration>`.
fn parse_time(text: &str, now: f64) -> anyhow::Result<f64> {
    if text == "now" {
        Ok(now)
    } else if let Some(ago) = text.strip_prefix("now-") {
        Ok(now - seconds(ago)?)
    } else {
        text.parse()
            .with_context(|| format!("`{text}` is not Unix seconds, `now` or `now-<duration>`"))
    }
}
