use std::{path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::Context as _;
use chaos::{
    experiment::{default_journal_path, Loaded, Vars},
    proxy::FaultProxy,
    runner::{self, RunOptions},
    toxiproxy::NewProxy,
};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Chaos experiments for the shop, and a Toxiproxy-compatible fault proxy.
#[derive(Parser)]
#[command(name = "chaos", version)]
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
    Run {
        experiment: PathBuf,
        /// Where to write the JSON journal (default: EXPERIMENT.journal.json
        /// in the current directory).
        #[arg(long)]
        journal: Option<PathBuf>,
        /// Validate and print the plan without probing or changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check experiments: schema, values and references. Exit 2 if any is invalid.
    Validate {
        #[arg(required = true)]
        experiments: Vec<PathBuf>,
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
        } => run(experiment, journal, dry_run).await,
        Command::Validate { experiments } => Ok(validate(&experiments)),
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

async fn run(path: PathBuf, journal_path: Option<PathBuf>, dry_run: bool) -> anyhow::Result<u8> {
    let loaded = match Loaded::load(&path, &Vars::from_env()) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{error}");
            return Ok(2);
        }
    };
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
        dry_run,
        interrupt: Some(interrupt),
        observer: Some(Arc::new(|run: &chaos::journal::ActivityRun| {
            println!("{}", run.timeline_line());
        })),
        ..RunOptions::default()
    };
    let journal = runner::run_loaded(&loaded, options).await;
    println!("{}", journal.summary());
    let journal_path = journal_path.unwrap_or_else(|| default_journal_path(&path));
    let json = serde_json::to_string_pretty(&journal).context("serialising the journal")?;
    std::fs::write(&journal_path, json)
        .with_context(|| format!("writing the journal to {}", journal_path.display()))?;
    println!("journal: {}", journal_path.display());
    Ok(journal.status.exit_code())
}

fn validate(paths: &[PathBuf]) -> u8 {
    let mut invalid = 0;
    for path in paths {
        match Loaded::load(path, &Vars::from_env()) {
            Ok(loaded) => {
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
