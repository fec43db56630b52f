use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use anyhow::Context as _;
use chaos::{
    experiment::{default_journal_path, HypothesisStrategy, Loaded, RollbackStrategy, Vars},
    gameday::{self, Backend},
    proxy::FaultProxy,
    runner::{self, RunOptions},
    toxiproxy::NewProxy,
};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Chaos experiments for the shop, and a Toxiproxy-compatible fault proxy.
///
/// Reads plain Chaos Toolkit experiments as they are; named `shop-chaos` so
/// that it lives beside the Chaos Toolkit's own `chaos` command.
#[derive(Parser)]
#[command(name = "shop-chaos", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an experiment: hypothesis, method, hypothesis, rollbacks.
    ///
    /// Exit status: 0 the hypothesis held, 1 it deviated, 2 the experiment
    /// is invalid or the run was aborted (safeguard, failed action,
    /// interrupted, steady state not met before the method).
    ///
    /// EXPERIMENT is this runner's YAML or a plain Chaos Toolkit experiment
    /// (JSON or YAML), read as it is.
    Run {
        experiment: PathBuf,
        /// Where to write the JSON journal, in the Chaos Toolkit's shape
        /// (default: EXPERIMENT.journal.json in the current directory).
        #[arg(long, visible_alias = "journal-path")]
        journal: Option<PathBuf>,
        /// Validate and print the plan without probing or changing anything.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        vars: VarArgs,
        /// When the rollbacks run (default: the experiment's
        /// `runtime.rollbacks.strategy`, else `default`: always, even on
        /// interruption).
        #[arg(long, value_enum)]
        rollback_strategy: Option<RollbackStrategy>,
        /// When the steady-state hypothesis is checked (default: the
        /// experiment's `runtime.hypothesis.strategy`, else before and after
        /// the method).
        #[arg(long, value_enum)]
        hypothesis_strategy: Option<HypothesisStrategy>,
        /// Seconds between two checks during the method, for
        /// during-method-only and continuously.
        #[arg(long, value_name = "SECONDS")]
        hypothesis_frequency: Option<f64>,
        /// During the method, abort (and roll back) at the first deviation.
        #[arg(long)]
        fail_fast: bool,
    },
    /// Check experiments: schema, values and references. Exit 2 if any is invalid.
    Validate {
        #[arg(required = true)]
        experiments: Vec<PathBuf>,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Run a game day: Prometheus with the generated alert rules, the shop,
    /// loadgen at a steady rate, then each experiment of a scenario, judging
    /// whether the expected alerts fire and resolve within their bounds;
    /// writes a Markdown and HTML report with charts.
    ///
    /// Needs the `shop` and `loadgen` binaries beside `shop-chaos` (build them
    /// with `cargo build -p shop -p loadgen -p chaos`) and the `prometheus`
    /// binary (Debian package `prometheus`). Exit status: 0 every
    /// expectation met, 1 one failed (the report names it), 2 the game day
    /// could not be set up, 130 interrupted.
    Gameday {
        /// The scenario (default: chaos/gameday/full.yaml, or quick.yaml
        /// with --quick).
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
        /// The short scenario, with seconds-long alert windows: under three
        /// minutes, for tests and CI. Without it, about five minutes.
        #[arg(long)]
        quick: bool,
        /// The shop's database: the embedded SQLite file, or PostgreSQL at
        /// DATABASE_URL (reached through the fault proxy).
        #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
        database: Backend,
        /// PostgreSQL's URL, for --database postgres: an empty database.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// Shop replicas: 1 runs one process; more run a fleet behind
        /// HAProxy (needs --database postgres) and add the replica-kill step.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
        replicas: u16,
        /// The report directory (default: reports/gameday-<time>).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Where the shop and loadgen binaries are (default: beside shop-chaos).
        #[arg(long, value_name = "DIR")]
        bin_dir: Option<PathBuf>,
        /// The generated alert rules (default: alerts/generated).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Alertmanager's routing (default: alerts/alertmanager.yml); its
        /// shop-pager and shop-tickets receivers deliver to the game day's
        /// webhooks, and every page must reach the pager.
        #[arg(long, value_name = "FILE")]
        alertmanager_config: Option<PathBuf>,
    },
    /// Serve the fault proxy's Toxiproxy-compatible API.
    Proxy {
        /// Address of the HTTP API.
        #[arg(long, default_value = "127.0.0.1:8474")]
        api: String,
        /// Listen address of a proxy to create at start (needs --upstream).
        #[arg(long, requires = "upstream")]
        listen: Option<String>,
        /// Upstream of a proxy to create at start.
        #[arg(long)]
        upstream: Option<String>,
        /// Name of that proxy.
        #[arg(long, default_value = "upstream")]
        name: String,
    },
}

/// The Chaos Toolkit's `--var` and `--var-file`.
#[derive(clap::Args)]
struct VarArgs {
    /// Overrides a configuration entry: key=value, or key:type=value with
    /// type int, float, bool, str or json. May be repeated.
    #[arg(long = "var", value_name = "KEY=VALUE")]
    var: Vec<String>,
    /// A JSON or YAML file of `configuration` and `secrets` overrides, or a
    /// .env file of environment variables. May be repeated.
    #[arg(long = "var-file", value_name = "FILE")]
    var_file: Vec<PathBuf>,
}

impl VarArgs {
    /// The environment with the files and then the `--var`s over it.
    fn vars(&self) -> Result<Vars, String> {
        let mut vars = Vars::from_env();
        for file in &self.var_file {
            vars = vars.with_var_file(file)?;
        }
        for var in &self.var {
            vars = vars.with_var(var)?;
        }
        Ok(vars)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Run {
            experiment,
            journal,
            dry_run,
            vars,
            rollback_strategy,
            hypothesis_strategy,
            hypothesis_frequency,
            fail_fast,
        } => match vars.vars() {
            Ok(vars) => {
                let options = RunOptions {
                    dry_run,
                    rollback_strategy,
                    hypothesis_strategy,
                    hypothesis_frequency,
                    fail_fast,
                    ..RunOptions::default()
                };
                run(experiment, journal, &vars, options).await
            }
            Err(message) => {
                eprintln!("{message}");
                Ok(2)
            }
        },
        Command::Validate { experiments, vars } => match vars.vars() {
            Ok(vars) => Ok(validate(&experiments, &vars)),
            Err(message) => {
                eprintln!("{message}");
                Ok(2)
            }
        },
        Command::Gameday {
            scenario,
            quick,
            database,
            database_url,
            replicas,
            out,
            bin_dir,
            rules,
            alertmanager_config,
        } => {
            let scenario = scenario.unwrap_or_else(|| {
                source_path(&format!(
                    "chaos/gameday/{}.yaml",
                    if quick { "quick" } else { "full" }
                ))
            });
            gameday(gameday::Options {
                scenario,
                backend: database,
                replicas: usize::from(replicas),
                database_url,
                out: out.unwrap_or_else(default_report_dir),
                bin_dir: bin_dir.unwrap_or_else(beside_this_binary),
                rules: rules.unwrap_or_else(|| source_path("alerts/generated")),
                alertmanager_config: alertmanager_config
                    .unwrap_or_else(|| source_path("alerts/alertmanager.yml")),
                interrupt: CancellationToken::new(),
                quiet: false,
            })
            .await
        }
        Command::Proxy {
            api,
            listen,
            upstream,
            name,
        } => proxy(&api, listen, upstream, name).await.map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(
    path: PathBuf,
    journal_path: Option<PathBuf>,
    vars: &Vars,
    options: RunOptions,
) -> anyhow::Result<u8> {
    let loaded = match Loaded::load(&path, vars) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{error}");
            return Ok(2);
        }
    };
    for note in &loaded.notes {
        eprintln!("note: {note}");
    }
    let interrupt = CancellationToken::new();
    tokio::spawn({
        let interrupt = interrupt.clone();
        async move {
            shutdown_signal().await;
            eprintln!("interrupted: aborting and running the rollbacks (again to exit at once)");
            interrupt.cancel();
            shutdown_signal().await;
            eprintln!("exiting without finishing the rollbacks");
            std::process::exit(130);
        }
    });
    println!("experiment: {}", loaded.experiment.title);
    let options = RunOptions {
        interrupt: Some(interrupt),
        observer: Some(Arc::new(|run: &chaos::journal::ActivityRun| {
            println!("{}", run.timeline_line());
        })),
        ..options
    };
    let journal = runner::run_loaded(&loaded, options).await;
    println!("{}", journal.summary());
    let journal_path = journal_path.unwrap_or_else(|| default_journal_path(&path));
    let json = serde_json::to_string_pretty(&journal.to_chaostoolkit())
        .context("serialising the journal")?;
    std::fs::write(&journal_path, json)
        .with_context(|| format!("writing the journal to {}", journal_path.display()))?;
    println!("journal: {}", journal_path.display());
    Ok(journal.status.exit_code())
}

async fn gameday(options: gameday::Options) -> anyhow::Result<u8> {
    let interrupt = options.interrupt.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("interrupted: rolling back and stopping everything (again to exit at once)");
        interrupt.cancel();
        shutdown_signal().await;
        std::process::exit(130);
    });
    let interrupt = options.interrupt.clone();
    let finished = gameday::run(options).await?;
    println!("report: {}", finished.report_path.display());
    if interrupt.is_cancelled() {
        return Ok(130);
    }
    if finished.passed() {
        println!("game day passed: every expectation met");
        Ok(0)
    } else {
        for verdict in finished.report.failed() {
            eprintln!(
                "failed: {}: {}: {} ({})",
                verdict.step, verdict.expectation, verdict.measured, verdict.bound
            );
        }
        Ok(1)
    }
}

/// `relative` from the current directory if it is there (a checkout's
/// root), else from the source tree this binary was built from.
fn source_path(relative: &str) -> PathBuf {
    let here = PathBuf::from(relative);
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or(here.clone(), |root| root.join(relative))
}

fn default_report_dir() -> PathBuf {
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_else(|_| "now".into());
    PathBuf::from("reports").join(format!("gameday-{stamp}"))
}

fn beside_this_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default()
}

fn validate(paths: &[PathBuf], vars: &Vars) -> u8 {
    let mut invalid = 0;
    for path in paths {
        match Loaded::load(path, vars) {
            Ok(loaded) => {
                for note in &loaded.notes {
                    println!("note: {}: {note}", path.display());
                }
                let e = &loaded.experiment;
                println!(
                    "ok: {} ({}: {}, {}{})",
                    path.display(),
                    e.title,
                    count(e.method.len(), "method activity", "method activities"),
                    count(e.rollbacks.len(), "rollback", "rollbacks"),
                    e.safeguards
                        .as_ref()
                        .map(|s| format!(", {}", count(s.probes.len(), "safeguard", "safeguards")))
                        .unwrap_or_default()
                );
            }
            Err(error) => {
                invalid += 1;
                println!("invalid: {error}");
            }
        }
    }
    if invalid > 0 {
        println!("{invalid} of {} experiments are invalid", paths.len());
        2
    } else {
        0
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

async fn proxy(
    api: &str,
    listen: Option<String>,
    upstream: Option<String>,
    name: String,
) -> anyhow::Result<()> {
    let proxy = FaultProxy::start(api)
        .await
        .with_context(|| format!("serving the API on {api}"))?;
    println!("fault proxy API: {}", proxy.api_url());
    if let Some(upstream) = upstream {
        let created = proxy
            .create(NewProxy {
                name,
                listen: listen.unwrap_or_else(|| "127.0.0.1:0".into()),
                upstream,
                enabled: true,
            })
            .map_err(|e| anyhow::anyhow!("creating the proxy: {}", e.error))?;
        println!(
            "proxy {}: {} -> {}",
            created.name, created.listen, created.upstream
        );
    }
    shutdown_signal().await;
    proxy.shutdown();
    proxy.wait().await;
    Ok(())
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
