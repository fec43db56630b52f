//! `loadgen capacity`: its options and the command.

use std::path::PathBuf;
use std::time::Duration;

use alerts::spec::{SloSpec, SHIPPED_PATH};
use clap::Args;
use fleet::cpu_limit::Cores;

use crate::capacity::{self, limit, stepping};
use crate::error::{exit, Error, Result};
use crate::slo::trim;

#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// Measure a shop already running at this URL (a pod in a cluster)
    /// instead of starting one here; its CPU is its process_cpu_seconds_total.
    #[arg(long, short = 'H', value_name = "URL")]
    pub host: Option<String>,
    /// The admin port of --host, for /metrics. Default: --host on port 8081.
    #[arg(long, value_name = "URL", requires = "host")]
    pub admin_url: Option<String>,
    /// The shop binary to measure: a release build (`cargo build --release
    /// -p shop`). Default: SHOP_BIN, or `shop` beside this program.
    #[arg(long, value_name = "FILE")]
    pub shop_bin: Option<PathBuf>,
    /// The pod's CPU limit (250m, 0.5, 1), applied as a cgroup CPU quota.
    /// Default: the shop container's resources.limits.cpu in --manifest.
    #[arg(long, value_parser = Cores::parse, value_name = "CPU")]
    pub cpu_limit: Option<Cores>,
    /// The Deployment manifest the CPU limit and request are read from.
    #[arg(long, default_value = limit::DEPLOYMENT, value_name = "FILE")]
    pub manifest: PathBuf,
    /// The PostgreSQL server a fresh database is created on (and dropped
    /// from afterwards), as a URL of any of its databases.
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres",
        value_name = "URL"
    )]
    pub database_server: String,
    /// The offered rate of the first step, in requests per second.
    #[arg(long, default_value_t = 100, value_name = "RPS")]
    pub start_rps: usize,
    /// Requests per second added at each step. Default: --start-rps.
    #[arg(long, value_name = "RPS")]
    pub step_rps: Option<usize>,
    /// The offered rate of the last step, unless an objective breaks first.
    #[arg(long, default_value_t = 5000, value_name = "RPS")]
    pub max_rps: usize,
    /// How long each step offers its rate, as 15s or 1m.
    #[arg(long, default_value = "15s", value_parser = super::timespan, value_name = "TIME")]
    pub step_duration: Duration,
    /// Goose users sharing the rate: the most requests in flight. Many
    /// more than a replica serves at once, so that a saturated replica
    /// queues requests and its latency objective breaks, as under real
    /// shoppers, instead of the users slowing down with it.
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub users: usize,
    /// Replicas to load together behind HAProxy, each under the CPU limit
    /// (to check what N pods carry); a capacity for the HPA is one replica's.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub replicas: usize,
    /// Where the step table and the capacity figure go.
    #[arg(
        long,
        short = 'o',
        default_value = "capacity.json",
        value_name = "FILE"
    )]
    pub output: PathBuf,
    /// The SLO spec (Sloth prometheus/v1). Default: alerts/slo.yaml as built in.
    #[arg(long, value_name = "FILE")]
    pub slo: Option<PathBuf>,
}

pub async fn run(args: CapacityArgs) -> Result<u8> {
    let remote = match &args.host {
        Some(host) => Some((host.clone(), admin_url(host, args.admin_url.as_deref())?)),
        None => None,
    };
    let binary = match args.shop_bin {
        _ if remote.is_some() => PathBuf::new(),
        Some(path) if path.is_file() => path,
        Some(path) => {
            return Err(Error::Usage(format!(
                "--shop-bin {} is not a file; build it with `cargo build --release -p shop`",
                path.display()
            )))
        }
        None => fleet::replica::shop_binary().map_err(|e| Error::Usage(e.to_string()))?,
    };
    let (cpu, cpu_source) = match args.cpu_limit {
        Some(cores) => {
            // The request is the manifest's when it can be read: HPA
            // utilisation is relative to it.
            let (request, source) = match limit::from_manifest(&args.manifest) {
                Ok(cpu) => (
                    cpu.request,
                    format!("--cpu-limit; request from {}", args.manifest.display()),
                ),
                Err(_) => (
                    cores.get(),
                    format!(
                        "--cpu-limit; request = limit ({} unreadable)",
                        args.manifest.display()
                    ),
                ),
            };
            (
                limit::PodCpu {
                    limit: cores,
                    request,
                },
                source,
            )
        }
        None => (
            limit::from_manifest(&args.manifest)?,
            args.manifest.display().to_string(),
        ),
    };
    let (spec, slo_source) = match &args.slo {
        Some(path) => (
            SloSpec::load(path).map_err(|e| Error::Slo {
                origin: path.display().to_string(),
                source: e.into(),
            })?,
            path.display().to_string(),
        ),
        None => (
            SloSpec::shipped(),
            format!("{SHIPPED_PATH} (as built into loadgen)"),
        ),
    };
    let options = stepping::Options {
        remote,
        binary,
        database_server: args.database_server,
        cpu,
        cpu_source,
        start_rps: args.start_rps,
        step_rps: args.step_rps.unwrap_or(args.start_rps),
        max_rps: args.max_rps,
        step_duration: args.step_duration,
        users: args.users.max(1),
        replicas: args.replicas.max(1),
        spec,
        slo_source,
    };
    if let Some((url, _)) = &options.remote {
        eprintln!(
            "measuring the shop at {url}, whose pod has a CPU limit of {} cores ({})",
            trim(options.cpu.limit.get()),
            options.cpu_source
        );
    } else {
        eprintln!(
            "measuring {} ({} build) on PostgreSQL under a CPU limit of {} cores ({})",
            options.binary.display(),
            capacity::pod::build_profile(&options.binary),
            trim(options.cpu.limit.get()),
            options.cpu_source
        );
    }
    let file = stepping::measure(&options).await?;
    capacity::write_file(&args.output, &file)?;
    eprintln!("stopped: {}", file.stopped_because);
    match &file.capacity {
        Some(c) => {
            eprintln!(
                "capacity: {} req/s (offered {}) at {} cores, {} % of the limit; written to {}",
                trim(c.requests_per_second),
                trim(c.target_rps),
                trim(c.cpu_cores),
                trim(c.cpu_percent_of_limit),
                args.output.display()
            );
            Ok(exit::OK)
        }
        None => {
            eprintln!(
                "no capacity: the objectives broke at the first step; see {}",
                args.output.display()
            );
            Ok(exit::BREACH)
        }
    }
}

/// The admin URL: given, or `host` on port 8081 (the shop's admin port).
fn admin_url(host: &str, given: Option<&str>) -> Result<String> {
    if let Some(url) = given {
        return Ok(url.to_string());
    }
    let bad = || {
        Error::Usage(format!(
            "--host {host} is not a URL such as http://shop:8080"
        ))
    };
    let (scheme, rest) = host.split_once("://").ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let name = authority
        .rsplit_once(':')
        .map_or(authority, |(name, _)| name);
    if name.is_empty() {
        return Err(bad());
    }
    Ok(format!("{scheme}://{name}:8081"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_admin_url_defaults_to_port_8081_of_the_host() {
        assert_eq!(
            super::admin_url("http://shop-capacity:8080/", None).unwrap(),
            "http://shop-capacity:8081"
        );
        assert_eq!(
            super::admin_url("http://a", Some("http://b:9")).unwrap(),
            "http://b:9"
        );
        assert!(super::admin_url("shop", None).is_err());
    }
}
