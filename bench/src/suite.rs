//! The benchmark plan: start the reference handler and the shop on each
//! backend, then run every case once per round (the reference first, so
//! each round has its own ceiling), and reduce the rounds to medians.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{bail, Context};

use crate::{
    checkout::{Db, Ledger, CART_PREFIX},
    machine::Machine,
    process::{children_cpu, get, Server, ShopSpec},
    results::{percent, Backend, BackendFigures, Case, Kind, LoadgenFigures, Results, Settings},
    stats::median,
    wrk::{self, Load, Measurement, Scripts},
};

/// What to run and how hard.
#[derive(Debug, Clone)]
pub struct Options {
    /// Release binaries: the shop, the reference handler, loadgen.
    pub shop: PathBuf,
    pub reference: PathBuf,
    pub loadgen: PathBuf,
    pub loadgen_threads: u32,
    /// A PostgreSQL URL whose user may create databases; the bench makes
    /// and drops one of its own.
    pub postgres_admin_url: String,
    pub load: Load,
    pub rounds: u32,
    /// The telemetry figure's runs: per round and backend, this many runs
    /// without telemetry, each between two runs with it, all this long.
    pub telemetry_pairs: u32,
    pub telemetry_run: Duration,
    /// Starts timed per backend for the start-up figure.
    pub starts: u32,
    /// Carts prepared per checkout run, per second of the run: more than
    /// the shop can order, or the run ends in "no such cart" errors.
    pub carts_per_second: u64,
}

/// The shop under test on one backend: with telemetry and without.
struct Subject {
    backend: Backend,
    shop: Server,
    quiet: Server,
    product_path: String,
    db: Db,
    ledger: Ledger,
    ready_runs: Vec<Duration>,
    resident_bytes: u64,
    /// For each run without telemetry, 1 − (rate with telemetry / rate
    /// without), the rate with telemetry being the mean of the runs just
    /// before and just after it, so that a neighbour's load drifting over
    /// the three runs cancels out.
    telemetry_costs: Vec<f64>,
}

/// Runs the whole plan. Progress goes to stderr.
pub fn run(options: &Options) -> anyhow::Result<Results> {
    let machine = Machine::describe();
    let started = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the database client's runtime")?;
    let scratch = tempfile::Builder::new()
        .prefix("shop-bench-")
        .tempdir()
        .context("creating a scratch directory")?;
    let database = format!("shop_bench_{}", std::process::id());
    let postgres_url = postgres_database_url(&options.postgres_admin_url, &database)?;
    runtime
        .block_on(postgres_admin(
            &options.postgres_admin_url,
            "CREATE",
            &database,
        ))
        .with_context(|| format!("creating the PostgreSQL database {database}"))?;
    let measured = measure(options, &runtime, scratch.path(), &postgres_url);
    // The shops are stopped by now (measure owns them), so the drop succeeds.
    if let Err(error) = runtime.block_on(postgres_admin(
        &options.postgres_admin_url,
        "DROP",
        &database,
    )) {
        eprintln!("warning: could not drop the database {database}: {error:#}");
    }
    let (cases, backends, loadgen) = measured?;
    Ok(Results {
        machine,
        settings: Settings {
            connections: options.load.connections,
            threads: options.load.threads,
            loadgen_threads: Some(options.loadgen_threads),
            duration_seconds: options.load.duration.as_secs(),
            rounds: options.rounds,
            telemetry_pairs: Some(options.telemetry_pairs),
            telemetry_run_seconds: Some(options.telemetry_run.as_secs()),
            started,
            commit: commit(),
        },
        cases,
        backends,
        loadgen,
    })
}

type Measured = (Vec<Case>, Vec<BackendFigures>, Option<LoadgenFigures>);

fn measure(
    options: &Options,
    runtime: &tokio::runtime::Runtime,
    scratch: &Path,
    postgres_url: &str,
) -> anyhow::Result<Measured> {
    let scripts = Scripts::write(scratch)?;
    let reference = Server::reference(&options.reference)?;
    let sqlite_url = format!("sqlite://{}", scratch.join("shop.db").display());
    let mut subjects = Vec::new();
    for (backend, url) in [
        (Backend::Sqlite, sqlite_url.as_str()),
        (Backend::Postgres, postgres_url),
    ] {
        subjects.push(subject(options, runtime, scratch, backend, url)?);
    }

    let load = &options.load;
    let mut runs: BTreeMap<(Option<Backend>, usize), Vec<Measurement>> = BTreeMap::new();
    let mut loadgen_rounds = Vec::new();
    let kinds = [
        Kind::Reference,
        Kind::ProductPage,
        Kind::ProductPageWithoutTelemetry,
        Kind::HomePage,
        Kind::CatalogueApi,
        Kind::MetricsScrape,
        Kind::Checkout,
    ];
    let index = |kind: Kind| kinds.iter().position(|&k| k == kind).unwrap_or(0);
    for round in 0..options.rounds {
        let progress = |what: &str, m: &Measurement| {
            eprintln!(
                "round {}/{}: {what}: {:.0} req/s, p99 {:.2} ms{}",
                round + 1,
                options.rounds,
                m.requests_per_second(),
                m.p99_us / 1000.0,
                match m.socket_errors + m.status_errors {
                    0 => String::new(),
                    n => format!(", {n} errors"),
                }
            )
        };
        let m = wrk::run(&reference.url("/"), load, &scripts.get, &[])?;
        progress("reference", &m);
        runs.entry((None, index(Kind::Reference)))
            .or_default()
            .push(m);

        let flood = loadgen_flood(options, &reference.url(""))?;
        eprintln!(
            "round {}/{}: loadgen flood: {:.0} req/s",
            round + 1,
            options.rounds,
            flood.0
        );
        loadgen_rounds.push((m, flood));

        for subject in &mut subjects {
            let b = subject.backend;
            let mut record = |kind: Kind, m: Measurement| {
                progress(&format!("{} on {}", kind.label(), b.label()), &m);
                runs.entry((Some(b), index(kind))).or_default().push(m);
            };
            let product = subject.shop.url(&subject.product_path);
            let before = wrk::run(&product, load, &scripts.get, &[])?;
            subject.resident_bytes = subject.resident_bytes.max(subject.shop.resident_bytes()?);
            let quiet = subject.quiet.url(&subject.product_path);
            let off = wrk::run(&quiet, load, &scripts.get, &[])?;
            record(Kind::ProductPage, before);
            record(Kind::ProductPageWithoutTelemetry, off);
            let costs = telemetry_costs(options, &product, &quiet, &scripts)?;
            eprintln!(
                "round {}/{}: telemetry on {}: {}",
                round + 1,
                options.rounds,
                b.label(),
                costs
                    .iter()
                    .map(|&c| percent(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            subject.telemetry_costs.extend(costs);
            record(
                Kind::HomePage,
                wrk::run(&subject.shop.url("/"), load, &scripts.get, &[])?,
            );
            let api = subject.shop.url("/api/v1/products?page=1&per_page=12");
            record(Kind::CatalogueApi, wrk::run(&api, load, &scripts.get, &[])?);
            let metrics = subject.shop.admin_url("/metrics");
            record(
                Kind::MetricsScrape,
                wrk::run(&metrics, load, &scripts.get, &[])?,
            );

            let prefix = format!("{CART_PREFIX}{round}-");
            let carts = options.carts_per_second * load.duration.as_secs().max(1);
            runtime.block_on(subject.db.prepare_carts(&prefix, carts))?;
            let args = [prefix, load.threads.to_string()];
            let orders = subject.shop.url("/api/v1/orders");
            let m = wrk::run(&orders, load, &scripts.checkout, &args)?;
            if m.requests >= carts {
                bail!(
                    "the checkout run on {} used up its {carts} carts: raise --carts-per-second",
                    b.label()
                );
            }
            record(Kind::Checkout, m);
        }
    }

    let reference_rps: Vec<f64> = runs[&(None, index(Kind::Reference))]
        .iter()
        .map(Measurement::requests_per_second)
        .collect();
    let mut cases = Vec::new();
    for ((backend, kind), rounds) in &runs {
        let kind = kinds[*kind];
        let rps = |m: &Measurement| m.requests_per_second();
        cases.push(Case {
            kind,
            backend: *backend,
            requests_per_second: median(rounds.iter().map(rps)).unwrap_or(0.0),
            p50_ms: median(rounds.iter().map(|m| m.p50_us / 1000.0)).unwrap_or(0.0),
            p99_ms: median(rounds.iter().map(|m| m.p99_us / 1000.0)).unwrap_or(0.0),
            share: median(rounds.iter().zip(&reference_rps).map(|(m, r)| rps(m) / r))
                .unwrap_or(0.0),
            errors: rounds
                .iter()
                .map(|m| m.socket_errors + m.status_errors)
                .sum(),
            rounds: rounds.clone(),
        });
    }

    let mut backends = Vec::new();
    for subject in subjects {
        let Subject {
            backend,
            shop,
            quiet,
            db,
            ledger,
            ready_runs,
            resident_bytes,
            telemetry_costs,
            ..
        } = subject;
        shop.stop();
        quiet.stop();
        let audit = runtime.block_on(db.audit(&ledger))?;
        runtime.block_on(db.close());
        backends.push(BackendFigures {
            backend,
            ready_ms: median(ready_runs.iter().map(millis)).unwrap_or(0.0),
            ready_runs_ms: ready_runs.iter().map(millis).collect(),
            resident_mib: resident_bytes as f64 / 1024.0 / 1024.0,
            telemetry_cost: median(telemetry_costs.iter().copied()),
            telemetry_costs,
            checkout_audit: Some(audit),
        });
    }
    reference.stop();

    let loadgen = (!loadgen_rounds.is_empty()).then(|| {
        let per_cpu = |requests: f64, cpu: f64| requests / cpu.max(0.01);
        LoadgenFigures {
            wrk_requests_per_second: median(
                loadgen_rounds.iter().map(|(w, _)| w.requests_per_second()),
            )
            .unwrap_or(0.0),
            loadgen_requests_per_second: median(loadgen_rounds.iter().map(|(_, l)| l.0))
                .unwrap_or(0.0),
            share: median(
                loadgen_rounds
                    .iter()
                    .map(|(w, l)| l.0 / w.requests_per_second()),
            )
            .unwrap_or(0.0),
            wrk_requests_per_cpu_second: median(
                loadgen_rounds
                    .iter()
                    .map(|(w, _)| per_cpu(w.requests as f64, w.client_cpu_seconds)),
            )
            .unwrap_or(0.0),
            loadgen_requests_per_cpu_second: median(
                loadgen_rounds.iter().map(|(_, l)| per_cpu(l.1, l.2)),
            )
            .unwrap_or(0.0),
        }
    });
    Ok((cases, backends, loadgen))
}

/// What telemetry costs the product page, once per run without it: short
/// runs alternating between the shop with telemetry (`on`) and without
/// (`off`), `on, off, on, …, off, on`.
///
/// Many short pairs rather than one long one: on a shared machine the rate
/// drifts by several per cent over tens of seconds, more than the cost
/// being measured, and runs close together share most of a drift.
fn telemetry_costs(
    options: &Options,
    on: &str,
    off: &str,
    scripts: &Scripts,
) -> anyhow::Result<Vec<f64>> {
    let load = Load {
        duration: options.telemetry_run,
        ..options.load
    };
    let rate = |url: &str| -> anyhow::Result<f64> {
        Ok(wrk::run(url, &load, &scripts.get, &[])?.requests_per_second())
    };
    let mut before = rate(on)?;
    let mut costs = Vec::new();
    for _ in 0..options.telemetry_pairs {
        let without = rate(off)?;
        let after = rate(on)?;
        costs.push(1.0 - (before + after) / 2.0 / without);
        before = after;
    }
    Ok(costs)
}

fn millis(d: &Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Seeds the backend's database with a first start, times `starts` more
/// starts on the seeded database, then starts the two shops under test.
fn subject(
    options: &Options,
    runtime: &tokio::runtime::Runtime,
    scratch: &Path,
    backend: Backend,
    url: &str,
) -> anyhow::Result<Subject> {
    let name = format!("{backend:?}").to_lowercase();
    let log = scratch.join(format!("{name}.log"));
    let spec = |telemetry| ShopSpec {
        binary: &options.shop,
        database_url: url,
        telemetry,
        log: &log,
    };
    Server::shop(&name, &spec(true))?.stop();
    let mut ready_runs = Vec::new();
    for _ in 0..options.starts {
        let shop = Server::shop(&name, &spec(true))?;
        ready_runs.push(shop.ready_after);
        shop.stop();
    }
    eprintln!(
        "{}: ready after {:.0} ms (median of {})",
        backend.label(),
        median(ready_runs.iter().map(millis)).unwrap_or(0.0),
        ready_runs.len()
    );
    let shop = Server::shop(&name, &spec(true))?;
    let quiet_log = scratch.join(format!("{name}-quiet.log"));
    let quiet = Server::shop(
        &format!("{name} without telemetry"),
        &ShopSpec {
            log: &quiet_log,
            ..spec(false)
        },
    )?;
    let (status, body) = get(shop.port, "/api/v1/products/1")?;
    let product: serde_json::Value = serde_json::from_str(&body)
        .with_context(|| format!("reading product 1 ({status}): {body:.200}"))?;
    let slug = product["slug"]
        .as_str()
        .with_context(|| format!("product 1 has no slug: {body:.200}"))?;
    let db = runtime.block_on(Db::connect(url))?;
    let ledger = runtime.block_on(db.restock())?;
    Ok(Subject {
        backend,
        shop,
        quiet,
        product_path: format!("/product/{slug}"),
        db,
        ledger,
        ready_runs,
        resident_bytes: 0,
        telemetry_costs: Vec::new(),
    })
}

/// `loadgen flood` against `host`: (requests per second, requests, CPU seconds).
fn loadgen_flood(options: &Options, host: &str) -> anyhow::Result<(f64, f64, f64)> {
    let (loadgen, load) = (&options.loadgen, &options.load);
    let cpu_before = children_cpu()?;
    let output = Command::new(loadgen)
        .arg(format!("--threads={}", options.loadgen_threads))
        .args(["flood", "--host", host])
        .arg(format!("--users={}", load.connections))
        .arg(format!("--run-time={}s", load.duration.as_secs().max(1)))
        .output()
        .with_context(|| format!("running {}", loadgen.display()))?;
    let cpu = children_cpu()?.saturating_sub(cpu_before).as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "loadgen flood failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    // The result is the last line; Goose may have printed before it.
    let last = stdout.lines().last().unwrap_or_default();
    let result: serde_json::Value = serde_json::from_str(last)
        .with_context(|| format!("reading loadgen flood's output {stdout:.200}"))?;
    let number = |key: &str| {
        result[key]
            .as_f64()
            .with_context(|| format!("no {key} in loadgen flood's output {stdout:.200}"))
    };
    Ok((number("requests_per_second")?, number("requests")?, cpu))
}

fn postgres_database_url(admin_url: &str, database: &str) -> anyhow::Result<String> {
    let (server, _) = admin_url
        .rsplit_once('/')
        .filter(|(server, _)| server.contains("://"))
        .with_context(|| format!("{admin_url} is not a postgres://…/database URL"))?;
    Ok(format!("{server}/{database}"))
}

/// `CREATE` or `DROP` (with force) the database `name`.
async fn postgres_admin(admin_url: &str, verb: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    let sql = match verb {
        "DROP" => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        _ => format!("CREATE DATABASE {name}"),
    };
    sqlx::query(&sql).execute(&mut connection).await?;
    connection.close().await?;
    Ok(())
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The short commit, `+dirty` if the measured sources differ from it.
fn commit() -> String {
    let commit = command_output("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = command_output(
        "git",
        &[
            "status",
            "--porcelain",
            "--",
            "service",
            "bench",
            "loadgen",
            "Cargo.lock",
        ],
    );
    if dirty.is_empty() {
        commit
    } else {
        format!("{commit}+dirty")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_database_sits_beside_the_admin_database() {
        assert_eq!(
            postgres_database_url("postgres://postgres@127.0.0.1:5432/postgres", "b1").unwrap(),
            "postgres://postgres@127.0.0.1:5432/b1"
        );
        assert!(postgres_database_url("nonsense", "b1").is_err());
    }
}
