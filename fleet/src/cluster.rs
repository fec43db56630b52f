//! A fleet on one machine: N shop replicas as pods on one PostgreSQL
//! database, HAProxy in front of them as their Service, and optionally a
//! Prometheus scraping every replica's admin port as job `shop`, each with
//! its own `instance` (and `pod`) label, found through a file-based service
//! discovery file that follows the replicas.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde_json::json;

use crate::{
    cpu_limit::Cores,
    haproxy::{self, Haproxy, Server},
    prometheus::{self, Prometheus},
    replica::{self, Replica},
};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("a fleet needs at least one replica")]
    NoReplicas,
    #[error(
        "{replicas} replicas with a CPU limit of {cores} each need {needed} CPUs; this machine \
         has {cpus}"
    )]
    TooMuchCpu {
        replicas: usize,
        cores: f64,
        needed: f64,
        cpus: usize,
    },
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    #[error(transparent)]
    Replica(#[from] replica::Error),
    #[error(transparent)]
    Haproxy(#[from] haproxy::Error),
    #[error(transparent)]
    Prometheus(#[from] prometheus::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How to run a fleet.
#[derive(Debug, Clone)]
pub struct Spec {
    pub replicas: usize,
    /// Each replica's `resources.limits.cpu`.
    pub cpu_limit: Option<Cores>,
    /// The `shop` binary ([`replica::shop_binary`] finds the usual one).
    pub binary: PathBuf,
    /// A PostgreSQL database all replicas share.
    pub database_url: String,
    /// HAProxy's address for the `shop` Service; port 0 takes a free one.
    pub listen: SocketAddr,
    /// HAProxy's address for the `shop-admin` Service; port 0 takes a free one.
    pub admin_listen: SocketAddr,
    /// Start a Prometheus scraping the replicas.
    pub prometheus: bool,
    /// Rule files for that Prometheus.
    pub rule_files: Vec<PathBuf>,
    pub admin_token: String,
    /// More environment for every replica.
    pub env: Vec<(String, String)>,
}

impl Spec {
    /// `replicas` replicas of `binary` on `database_url`, HAProxy on a free
    /// port, no Prometheus, a random admin token.
    pub fn new(replicas: usize, binary: PathBuf, database_url: String) -> Spec {
        Spec {
            replicas,
            cpu_limit: None,
            binary,
            database_url,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            prometheus: false,
            rule_files: Vec::new(),
            admin_token: uuid::Uuid::new_v4().simple().to_string(),
            env: Vec::new(),
        }
    }
}

/// A running fleet; everything stops when it is dropped.
#[derive(Debug)]
pub struct Fleet {
    // Dropped in this order: Prometheus and HAProxy before the replicas.
    prometheus: Option<Prometheus>,
    haproxy: Haproxy,
    replicas: Vec<Replica>,
    admin_token: String,
    discovery: PathBuf,
    dir: tempfile::TempDir,
}

impl Fleet {
    /// Starts the replicas one after another (the first one migrates and
    /// seeds the database), then HAProxy and Prometheus.
    pub async fn start(spec: Spec) -> Result<Fleet> {
        check(&spec)?;
        let dir = tempfile::Builder::new()
            .prefix("fleet-")
            .tempdir()
            .map_err(|e| Error::Io("creating the fleet's directory".into(), e))?;
        let replica_spec = replica::Spec {
            binary: spec.binary.clone(),
            database_url: spec.database_url.clone(),
            session_key: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            admin_token: spec.admin_token.clone(),
            cpu_limit: spec.cpu_limit,
            env: spec.env.clone(),
            log_dir: dir.path().to_owned(),
        };
        let mut replicas = Vec::with_capacity(spec.replicas);
        for i in 0..spec.replicas {
            replicas.push(Replica::start(&format!("shop-{i}"), replica_spec.clone()).await?);
        }
        let servers: Vec<Server> = replicas
            .iter()
            .map(|r| Server {
                name: r.name().to_owned(),
                public: r.public_address(),
                admin: r.admin_address(),
            })
            .collect();
        let haproxy = Haproxy::start(spec.listen, spec.admin_listen, &servers, dir.path()).await?;
        let discovery = dir.path().join("shop-targets.json");
        let mut fleet = Fleet {
            prometheus: None,
            haproxy,
            replicas,
            admin_token: spec.admin_token.clone(),
            discovery,
            dir,
        };
        fleet.write_discovery()?;
        if spec.prometheus {
            let mut config = prometheus::Config::scraping(Vec::<String>::new())
                .discovering(fleet.discovery.clone());
            for rules in &spec.rule_files {
                config = config.rule_file(rules);
            }
            fleet.prometheus = Some(Prometheus::start(config).await?);
        }
        Ok(fleet)
    }

    /// The Service: HAProxy's URL.
    pub fn url(&self) -> String {
        self.haproxy.url()
    }

    /// The `shop-admin` Service: any live replica's admin port.
    pub fn admin_url(&self) -> String {
        self.haproxy.admin_url()
    }

    pub fn haproxy(&self) -> &Haproxy {
        &self.haproxy
    }

    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    pub fn replica(&self, i: usize) -> &Replica {
        &self.replicas[i]
    }

    pub fn prometheus(&self) -> Option<&Prometheus> {
        self.prometheus.as_ref()
    }

    /// The bearer token of every replica's fault API.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Where the replicas' logs and the generated configurations are.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// SIGKILL to replica `i`, as when its pod's container is killed.
    pub async fn kill(&mut self, i: usize) {
        self.replicas[i].kill().await;
    }

    /// Starts replica `i` again on its ports, as a kubelet restarts it, and
    /// waits until it is ready.
    pub async fn restart(&mut self, i: usize) -> Result<()> {
        Ok(self.replicas[i].restart().await?)
    }

    /// Waits until HAProxy sends traffic to exactly the replicas named.
    pub async fn wait_for_servers_up(&self, names: &[&str], timeout: Duration) -> Result<()> {
        let started = std::time::Instant::now();
        loop {
            let mut up = self.haproxy.servers_up().await?;
            up.sort();
            let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            want.sort();
            if up == want {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(Error::Io(
                    format!("HAProxy's replicas up are {up:?}, not {want:?}, after {timeout:?}"),
                    std::io::Error::from(std::io::ErrorKind::TimedOut),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Rewrites the service discovery file from the replicas: each admin
    /// port a target with `instance` and `pod` set to the replica's name.
    fn write_discovery(&self) -> Result<()> {
        let targets: Vec<_> = self
            .replicas
            .iter()
            .map(|r| {
                json!({
                    "targets": [r.admin_address().to_string()],
                    "labels": { "instance": r.name(), "pod": r.name() },
                })
            })
            .collect();
        // Written aside and renamed, so that Prometheus never reads half a file.
        let partial = self.discovery.with_extension("json.partial");
        std::fs::write(&partial, serde_json::to_vec_pretty(&targets).expect("JSON"))
            .and_then(|()| std::fs::rename(&partial, &self.discovery))
            .map_err(|e| Error::Io(format!("writing {}", self.discovery.display()), e))
    }
}

fn check(spec: &Spec) -> Result<()> {
    if spec.replicas == 0 {
        return Err(Error::NoReplicas);
    }
    for address in [spec.listen, spec.admin_listen] {
        if address.port() != 0 {
            std::net::TcpListener::bind(address)
                .map_err(|e| Error::Io(format!("binding the fleet's address {address}"), e))?;
        }
    }
    if let Some(cores) = spec.cpu_limit {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let needed = cores.get() * spec.replicas as f64;
        if needed > cpus as f64 + 1e-9 {
            return Err(Error::TooMuchCpu {
                replicas: spec.replicas,
                cores: cores.get(),
                needed,
                cpus,
            });
        }
    }
    Ok(())
}
