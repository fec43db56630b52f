//! HAProxy (Debian package `haproxy`) as the replicas' two Services. `shop`:
//! one front-end port spread round-robin over the replicas' public ports,
//! each health-checked on its admin port's `/readyz`, so that a draining or
//! dead replica gets no traffic, as a Service drops a pod that is not ready.
//! `shop-admin`: the admin ports of every live replica (checked on
//! `/healthz`), as the cluster's `shop-admin` Service publishes not-ready
//! pods too: operators and the chaos runner reach the fault API and metrics
//! of a replica whose database is down.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the haproxy binary was not found ({0}): install the Debian package haproxy \
         (apt-get install haproxy), or set HAPROXY_BIN to its path"
    )]
    Missing(String),
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    #[error("haproxy refused its configuration {path}:\n{message}")]
    BadConfig { path: String, message: String },
    #[error("haproxy exited before it was serving ({status}); its output:\n{log}")]
    Exited { status: String, log: String },
    #[error("haproxy was not serving on {address} within {timeout:?}; its output:\n{log}")]
    NotServing {
        address: SocketAddr,
        timeout: Duration,
        log: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One replica as HAProxy sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub name: String,
    pub public: SocketAddr,
    pub admin: SocketAddr,
}

/// A running HAProxy; stopped when dropped.
#[derive(Debug)]
pub struct Haproxy {
    child: Child,
    address: SocketAddr,
    admin: SocketAddr,
    stats: SocketAddr,
    log: PathBuf,
}

/// How often a replica's readiness is checked, and how many failed checks
/// take it out: a dead replica gets traffic for about a second at most.
const CHECK_INTERVAL_MS: u64 = 500;
const FALL: u32 = 2;
const READY_TIMEOUT: Duration = Duration::from_secs(10);

impl Haproxy {
    /// Starts HAProxy with the `shop` Service on `address` and `shop-admin`
    /// on `admin` (port 0 for a free one) in front of `servers`, writing its
    /// configuration and output into `dir`.
    pub async fn start(
        address: SocketAddr,
        admin: SocketAddr,
        servers: &[Server],
        dir: &Path,
    ) -> Result<Haproxy> {
        let binary = find_binary()?;
        let (address, admin) = (usable(address)?, usable(admin)?);
        let stats = usable(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, configuration(address, admin, stats, servers))
            .map_err(|e| Error::Io(format!("writing {}", config.display()), e))?;
        check(&binary, &config).await?;
        let log = dir.join("haproxy.log");
        let out = std::fs::File::create(&log)
            .map_err(|e| Error::Io(format!("creating {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| Error::Io("sharing the haproxy log".into(), e))?;
        let child = Command::new(&binary)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Io(format!("starting {}", binary.display()), e))?;
        let mut haproxy = Haproxy {
            child,
            address,
            admin,
            stats,
            log,
        };
        haproxy.wait_serving().await?;
        Ok(haproxy)
    }

    /// The Service's address, `127.0.0.1:port`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The `shop-admin` Service's URL: the admin port of any live replica.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin)
    }

    /// HAProxy's statistics page: which replicas are up, and their traffic.
    pub fn stats_url(&self) -> String {
        format!("http://{}/", self.stats)
    }

    /// The replicas HAProxy currently sends traffic to (status `UP`), from
    /// its statistics in CSV.
    pub async fn servers_up(&self) -> Result<Vec<String>> {
        let csv = reqwest::get(format!("{};csv", self.stats_url()))
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| Error::Io("reading haproxy's statistics".into(), io_other(&e)))?
            .text()
            .await
            .map_err(|e| Error::Io("reading haproxy's statistics".into(), io_other(&e)))?;
        Ok(up_servers(&csv))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_serving(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::Exited {
                    status: status.to_string(),
                    log: self.log(),
                });
            }
            if tokio::net::TcpStream::connect(self.address).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(Error::NotServing {
                    address: self.address,
                    timeout: READY_TIMEOUT,
                    log: self.log(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `address`, or a free port for port 0. HAProxy binds with SO_REUSEPORT
/// and could share a port that another server holds: a given port is tried
/// first.
fn usable(address: SocketAddr) -> Result<SocketAddr> {
    if address.port() == 0 {
        crate::replica::free_address().map_err(|e| Error::Io(e.to_string(), io_other(&e)))
    } else {
        std::net::TcpListener::bind(address)
            .map_err(|e| Error::Io(format!("binding {address}"), e))?;
        Ok(address)
    }
}

/// The configuration: a front end, a back end of the replicas with a
/// readiness check on each one's admin port, and a statistics page.
fn configuration(
    address: SocketAddr,
    admin: SocketAddr,
    stats: SocketAddr,
    servers: &[Server],
) -> String {
    let mut cfg = format!(
        "global\n    maxconn 4096\n\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    \
         timeout server 60s\n    timeout http-keep-alive 10s\n    option redispatch\n    \
         retries 1\n\n\
         frontend shop\n    bind {address}\n    default_backend replicas\n\n\
         backend replicas\n    balance roundrobin\n    option httpchk GET /readyz\n    \
         http-check expect status 200\n    \
         default-server inter {CHECK_INTERVAL_MS}ms fall {FALL} rise 1\n"
    );
    for server in servers {
        cfg.push_str(&format!(
            "    server {} {} check port {}\n",
            server.name,
            server.public,
            server.admin.port()
        ));
    }
    cfg.push_str(&format!(
        "\nfrontend shop-admin\n    bind {admin}\n    default_backend admin-replicas\n\n\
         backend admin-replicas\n    balance roundrobin\n    option httpchk GET /healthz\n    \
         http-check expect status 200\n    \
         default-server inter {CHECK_INTERVAL_MS}ms fall {FALL} rise 1\n"
    ));
    for server in servers {
        cfg.push_str(&format!(
            "    server {} {} check\n",
            server.name, server.admin
        ));
    }
    cfg.push_str(&format!(
        "\nlisten stats\n    bind {stats}\n    stats enable\n    stats uri /\n    stats refresh 2s\n"
    ));
    cfg
}

/// The names of the back end's servers whose status is `UP`, from HAProxy's
/// statistics CSV (`# pxname,svname,...,status,...`).
fn up_servers(csv: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let column = |name| columns.iter().position(|c| *c == name);
    let (Some(px), Some(sv), Some(status)) = (column("pxname"), column("svname"), column("status"))
    else {
        return Vec::new();
    };
    lines
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|f| f.get(px) == Some(&"replicas"))
        .filter(|f| !matches!(f.get(sv), Some(&"FRONTEND") | Some(&"BACKEND")))
        .filter(|f| f.get(status).is_some_and(|s| s.starts_with("UP")))
        .filter_map(|f| f.get(sv).map(|s| s.to_string()))
        .collect()
}

async fn check(binary: &Path, config: &Path) -> Result<()> {
    let output = Command::new(binary)
        .arg("-c")
        .arg("-q")
        .arg("-f")
        .arg(config)
        .output()
        .await
        .map_err(|e| Error::Io(format!("running {} -c", binary.display()), e))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::BadConfig {
            path: config.display().to_string(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

fn find_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("HAPROXY_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::Missing(format!(
                "HAPROXY_BIN={} is not a file",
                path.display()
            )))
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("haproxy"))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Missing("not on PATH nor in /usr/sbin".into()))
}

fn io_other(e: &dyn std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_replica_is_checked_on_its_admin_port() {
        let servers = [Server {
            name: "shop-0".into(),
            public: "127.0.0.1:9000".parse().unwrap(),
            admin: "127.0.0.1:9001".parse().unwrap(),
        }];
        let cfg = configuration(
            "127.0.0.1:8080".parse().unwrap(),
            "127.0.0.1:8081".parse().unwrap(),
            "127.0.0.1:8404".parse().unwrap(),
            &servers,
        );
        assert!(cfg.contains("server shop-0 127.0.0.1:9000 check port 9001"));
        assert!(cfg.contains("option httpchk GET /readyz"));
        // The admin Service reaches live replicas, ready or not.
        assert!(cfg.contains("server shop-0 127.0.0.1:9001 check\n"));
        assert!(cfg.contains("option httpchk GET /healthz"));
    }

    #[test]
    fn only_servers_marked_up_count_as_up() {
        let csv = "# pxname,svname,qcur,status,weight\n\
                   shop,FRONTEND,,OPEN,\n\
                   replicas,shop-0,0,UP,1\n\
                   replicas,shop-1,0,DOWN,1\n\
                   replicas,shop-2,0,UP 1/2,1\n\
                   replicas,BACKEND,0,UP,2\n";
        assert_eq!(up_servers(csv), ["shop-0", "shop-2"]);
    }
}
