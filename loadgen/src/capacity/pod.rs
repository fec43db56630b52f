//! The shop as its pods run it: the fleet's replicas (own ports, a cgroup CPU
//! quota equal to the pod's limit) on a fresh PostgreSQL database that is
//! dropped afterwards; their `/metrics` and their CPU time. One replica is
//! loaded directly, as one pod; several through HAProxy, as their Service.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fleet::cpu_limit::Cores;
use fleet::{Fleet, Spec};

use super::exposition::{self, Sample};
use crate::error::{Error, Result};

/// Linux reports process times in clock ticks of `USER_HZ`, which the kernel
/// fixes at 100 for user space whatever its internal tick rate.
const USER_HZ: f64 = 100.0;

/// The running replicas and the database they own, or a shop running
/// elsewhere (a pod in a cluster) that is only loaded and scraped.
pub struct Pod {
    target: Target,
    http: reqwest::Client,
}

enum Target {
    Fleet {
        fleet: Box<Fleet>,
        database_url: String,
    },
    /// Its CPU time is its `process_cpu_seconds_total`: no `/proc` to read.
    Remote { url: String, admin_url: String },
}

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Usage(format!("building an HTTP client: {e}")))
}

/// A scrape of every replica: their samples (each with its `instance`
/// label, as Prometheus keeps them apart) and their CPU time together.
pub struct Scrape {
    pub at: Instant,
    pub samples: Vec<Sample>,
    pub cpu_seconds: f64,
}

impl Pod {
    /// Creates a database on the PostgreSQL server at `server` and starts
    /// `replicas` replicas of `binary` on it, each under a CPU limit of `cores`.
    pub async fn start(binary: &Path, server: &str, cores: Cores, replicas: usize) -> Result<Pod> {
        let database_url = fleet::postgres::create_database(server, "capacity")
            .await
            .map_err(|e| {
                Error::Usage(format!(
                    "cannot create a database on PostgreSQL at {server} ({e}); start PostgreSQL \
                     (Debian package postgresql) or give --database-server"
                ))
            })?;
        let mut spec = Spec::new(replicas, binary.to_path_buf(), database_url.clone());
        spec.cpu_limit = Some(cores);
        let started = Fleet::start(spec).await.map_err(|e| {
            Error::Usage(format!(
                "starting the shop replicas: {}",
                crate::attack::cause_chain(&e)
            ))
        });
        match (started, client()) {
            (Ok(fleet), Ok(http)) => Ok(Pod {
                target: Target::Fleet {
                    fleet: Box::new(fleet),
                    database_url,
                },
                http,
            }),
            (Err(error), _) | (_, Err(error)) => {
                let _ = fleet::postgres::drop_database(&database_url).await;
                Err(error)
            }
        }
    }

    /// A shop already running at `url`, its admin port at `admin_url`.
    pub fn remote(url: &str, admin_url: &str) -> Result<Pod> {
        Ok(Pod {
            target: Target::Remote {
                url: url.trim_end_matches('/').to_string(),
                admin_url: admin_url.trim_end_matches('/').to_string(),
            },
            http: client()?,
        })
    }

    /// Where the load goes: the one replica itself, or HAProxy.
    pub fn url(&self) -> String {
        match &self.target {
            Target::Fleet { fleet, .. } => match fleet.replicas() {
                [one] => one.url(),
                _ => fleet.url(),
            },
            Target::Remote { url, .. } => url.clone(),
        }
    }

    async fn metrics(&self, admin_url: &str) -> Result<Vec<Sample>> {
        let url = format!("{admin_url}/metrics");
        let failed = |why: String| Error::Unreachable {
            host: url.clone(),
            reason: why,
        };
        let text = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| failed(crate::attack::cause_chain(&e)))?
            .text()
            .await
            .map_err(|e| failed(e.to_string()))?;
        exposition::parse(&text, alerts::SHOP_JOB).map_err(failed)
    }

    /// Every replica's `/metrics` and CPU time, read together.
    pub async fn scrape(&self) -> Result<Scrape> {
        let fleet = match &self.target {
            Target::Fleet { fleet, .. } => fleet,
            Target::Remote { admin_url, .. } => {
                let samples = self.metrics(admin_url).await?;
                let cpu_seconds = samples
                    .iter()
                    .find(|s| s.name == "process_cpu_seconds_total")
                    .map_or(0.0, |s| s.value);
                return Ok(Scrape {
                    at: Instant::now(),
                    samples,
                    cpu_seconds,
                });
            }
        };
        let mut samples = Vec::new();
        let mut cpu_seconds = 0.0;
        for replica in fleet.replicas() {
            let mut scraped = self.metrics(&replica.admin_url()).await?;
            let pid = replica.pid().ok_or_else(|| {
                Error::Usage(format!("replica {} is not running", replica.name()))
            })?;
            cpu_seconds += process_cpu_seconds(pid)?;
            for sample in &mut scraped {
                sample
                    .labels
                    .insert("instance".into(), replica.admin_address().to_string());
            }
            samples.extend(scraped);
        }
        Ok(Scrape {
            at: Instant::now(),
            samples,
            cpu_seconds,
        })
    }

    /// The shop's version, from `shop_build_info`.
    pub async fn version(&self) -> Result<String> {
        let scrape = self.scrape().await?;
        Ok(scrape
            .samples
            .iter()
            .find(|s| s.name == shop_contract::metrics::names::SHOP_BUILD_INFO)
            .and_then(|s| s.labels.get("version").cloned())
            .unwrap_or_else(|| "unknown".into()))
    }

    /// Stops the replicas and drops their database.
    pub async fn stop(self) -> Result<()> {
        let Target::Fleet {
            fleet,
            database_url,
        } = self.target
        else {
            return Ok(());
        };
        drop(fleet);
        fleet::postgres::drop_database(&database_url)
            .await
            .map_err(|e| {
                Error::Usage(format!(
                    "dropping the measurement's database {database_url}: {e}"
                ))
            })
    }
}

fn process_cpu_seconds(pid: u32) -> Result<f64> {
    let path = PathBuf::from(format!("/proc/{pid}/stat"));
    let stat = std::fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    cpu_seconds(&stat).ok_or_else(|| Error::Usage(format!("{} does not parse", path.display())))
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted
/// from the last `)`.
pub fn cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name come state (field 3) ... utime (14) and stime (15).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// The 1-minute load average, the noise other work puts on the machine.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// `release` or `debug` from the cargo profile directory the binary is in.
pub fn build_profile(binary: &Path) -> String {
    let names: Vec<_> = binary
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    ["release", "debug"]
        .into_iter()
        .find(|p| names.iter().any(|n| n == p))
        .unwrap_or("unknown")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_user_plus_system_ticks_counted_after_the_name() {
        let stat = "4242 (shop (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 9 0";
        assert_eq!(cpu_seconds(stat), Some(3.0));
        assert_eq!(cpu_seconds("4242 (shop) S 1"), None);
    }

    #[test]
    fn the_build_profile_is_the_cargo_profile_directory() {
        assert_eq!(build_profile(Path::new("target/release/shop")), "release");
        assert_eq!(build_profile(Path::new("/w/target/debug/shop")), "debug");
        assert_eq!(build_profile(Path::new("/usr/bin/shop")), "unknown");
    }
}
