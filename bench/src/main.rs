//! `bench`: measures the shop and writes the results. Run it through
//! `bench/run.sh`, which builds the release binaries and starts PostgreSQL.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use bench::{
    report,
    results::Results,
    suite::{self, Options},
    wrk::Load,
};
use clap::Parser;

/// Measures the shop with wrk on loopback: each backend's pages, API,
/// metrics scrape and checkout as a share of a minimal actix-web handler,
/// telemetry cost, start-up time, resident memory, and loadgen against wrk.
/// Writes results.json and results.md, and the README's performance section.
#[derive(Parser)]
#[command(name = "bench")]
struct Cli {
    /// Directory of the release binaries shop, bench-reference and loadgen.
    #[arg(long, default_value = "target/release")]
    binaries: PathBuf,
    /// PostgreSQL URL of a user that may create databases.
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres: String,
    /// Open connections of each wrk run (and users of loadgen's).
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// loadgen's threads (`loadgen --threads`): on a 2-core machine shared
    /// with the server, one sent the most requests.
    #[arg(long, default_value_t = 1)]
    loadgen_threads: u32,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Rounds; each figure is the median over them.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Runs without telemetry per round and backend for the telemetry
    /// figure, each between two runs with it.
    #[arg(long, default_value_t = 5)]
    telemetry_pairs: u32,
    /// Seconds per run of the telemetry figure.
    #[arg(long, default_value_t = 2)]
    telemetry_seconds: u64,
    /// Timed starts per backend for the start-up figure.
    #[arg(long, default_value_t = 5)]
    starts: u32,
    /// Carts prepared per second of a checkout run.
    #[arg(long, default_value_t = 8_000)]
    carts_per_second: u64,
    /// Where results.json and results.md go.
    #[arg(long, default_value = "bench/results")]
    output: PathBuf,
    /// A README whose performance section (between the bench-results
    /// markers) gets the new table.
    #[arg(long)]
    readme: Option<PathBuf>,
    /// Only render results.md (and the README) again from results.json.
    #[arg(long)]
    render_only: bool,
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
    let json_path = cli.output.join("results.json");
    let results: Results = if cli.render_only {
        let json = std::fs::read_to_string(&json_path)
            .with_context(|| format!("reading {}", json_path.display()))?;
        serde_json::from_str(&json).with_context(|| format!("parsing {}", json_path.display()))?
    } else {
        let options = Options {
            shop: cli.binaries.join("shop"),
            reference: cli.binaries.join("bench-reference"),
            loadgen: cli.binaries.join("loadgen"),
            loadgen_threads: cli.loadgen_threads,
            postgres_admin_url: cli.postgres,
            load: Load {
                connections: cli.connections,
                threads: cli.threads,
                duration: Duration::from_secs(cli.duration),
            },
            rounds: cli.rounds.max(1),
            telemetry_pairs: cli.telemetry_pairs.max(1),
            telemetry_run: Duration::from_secs(cli.telemetry_seconds.max(1)),
            starts: cli.starts.max(1),
            carts_per_second: cli.carts_per_second,
        };
        let results = suite::run(&options)?;
        std::fs::create_dir_all(&cli.output)
            .with_context(|| format!("creating {}", cli.output.display()))?;
        write(
            &json_path,
            &(serde_json::to_string_pretty(&results)? + "\n"),
        )?;
        results
    };
    let markdown = report::markdown(&results);
    write(&cli.output.join("results.md"), &markdown)?;
    print!("{markdown}");
    if let Some(readme) = &cli.readme {
        let text = std::fs::read_to_string(readme)
            .with_context(|| format!("reading {}", readme.display()))?;
        let spliced = report::splice(&text, &markdown).with_context(|| {
            format!(
                "{} has no {} … {} markers",
                readme.display(),
                report::README_START,
                report::README_END
            )
        })?;
        write(readme, &spliced)?;
    }
    Ok(())
}

fn write(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
