//! `fleet up`: a fleet of shop replicas on this machine, to poke at.

use std::{net::SocketAddr, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use fleet::{cpu_limit::Cores, postgres, replica, Fleet, Spec};

/// Real parts on one machine: shop replicas as pods behind HAProxy, with
/// Prometheus scraping each of them, on one PostgreSQL database.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Starts the fleet, prints its URLs, and tears it all down on Ctrl-C
    /// (the database too, unless you gave one).
    Up(Up),
}

#[derive(Parser)]
struct Up {
    /// How many shop replicas.
    #[arg(long, default_value_t = 3)]
    replicas: usize,
    /// Each replica's CPU limit, as in `resources.limits.cpu` (250m, 0.5):
    /// applied through a cgroup CPU quota, which needs root.
    #[arg(long, value_parser = Cores::parse)]
    cpu_limit: Option<Cores>,
    /// HAProxy's address: the fleet's Service, for shoppers and load.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// HAProxy's address for the fleet's `shop-admin` Service: the fault
    /// API and metrics of any live replica.
    #[arg(long, default_value = "127.0.0.1:8081")]
    admin_listen: SocketAddr,
    /// A PostgreSQL database for the replicas; by default a fresh one is
    /// created on the server of TEST_DATABASE_URL (or 127.0.0.1:5432) and
    /// dropped at the end.
    #[arg(long, env = "FLEET_DATABASE_URL")]
    database_url: Option<String>,
    /// The fault API's bearer token on every replica (random by default).
    #[arg(long, env = "SHOP_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Rule files for the fleet's Prometheus.
    #[arg(long = "rules", default_value = "alerts/generated/slo-rules.yaml")]
    rule_files: Vec<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Up(up) = Cli::parse().command;
    match run(up).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fleet: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(up: Up) -> anyhow::Result<()> {
    let binary = replica::shop_binary()?;
    let rule_files: Vec<_> = up.rule_files.into_iter().filter(|p| p.is_file()).collect();
    let (database_url, created) = match up.database_url {
        Some(url) => (url, false),
        None => {
            let server = postgres::server_url();
            let url = postgres::create_database(&server, "fleet")
                .await
                .with_context(|| {
                    format!(
                        "creating a database on {server} (start PostgreSQL, or give --database-url)"
                    )
                })?;
            (url, true)
        }
    };
    let mut spec = Spec::new(up.replicas, binary, database_url.clone());
    spec.cpu_limit = up.cpu_limit;
    spec.listen = up.listen;
    spec.admin_listen = up.admin_listen;
    spec.prometheus = true;
    spec.rule_files = rule_files;
    if let Some(token) = up.admin_token {
        spec.admin_token = token;
    }
    let started = Fleet::start(spec).await;
    let outcome = match started {
        Ok(fleet) => {
            print_urls(&fleet, &database_url, created);
            stopped().await;
            eprintln!("fleet: tearing down");
            drop(fleet);
            Ok(())
        }
        Err(error) => Err(anyhow::Error::new(error)),
    };
    if created {
        postgres::drop_database(&database_url)
            .await
            .with_context(|| format!("dropping the fleet's database {database_url}"))?;
    }
    outcome
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM.
async fn stopped() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn print_urls(fleet: &Fleet, database_url: &str, created: bool) {
    println!("shop (HAProxy)  {}", fleet.url());
    println!("shop-admin      {}", fleet.admin_url());
    println!("haproxy stats   {}", fleet.haproxy().stats_url());
    if let Some(prometheus) = fleet.prometheus() {
        println!("prometheus      {}", prometheus.url());
    }
    for replica in fleet.replicas() {
        println!(
            "{:<15} {}  admin {}  pid {}",
            replica.name(),
            replica.url(),
            replica.admin_url(),
            replica.pid().map_or("-".into(), |p| p.to_string()),
        );
    }
    println!("admin token     {}", fleet.admin_token());
    let database = database_url.rsplit('/').next().unwrap_or(database_url);
    println!(
        "database        {database}{}",
        if created { " (dropped on exit)" } else { "" }
    );
    println!("logs            {}", fleet.dir().display());
    println!("Ctrl-C (or SIGTERM) tears it all down.");
}
