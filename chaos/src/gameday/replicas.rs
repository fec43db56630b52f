//! The shop as the game day runs it: one supervised process, or a fleet of
//! supervised replicas on one PostgreSQL database behind HAProxy (the
//! `shop` and `shop-admin` Services), each restarted after it dies as a
//! kubelet restarts a pod's container.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, Result};
use fleet::haproxy::{Haproxy, Server};
use serde_json::json;

use super::{
    shop::{self, ShopConfig, Supervisor},
    timeline::Timeline,
};

/// What every replica shares.
pub(crate) struct Plan {
    pub(crate) binary: PathBuf,
    pub(crate) database_url: String,
    pub(crate) replicas: usize,
    pub(crate) restart_delay: Duration,
    /// Logs go here: `shop.log`, or `shop-0.log`…
    pub(crate) out: PathBuf,
    /// Pid files and HAProxy's configuration go here.
    pub(crate) scratch: PathBuf,
}

pub(crate) struct Shops {
    configs: Vec<ShopConfig>,
    supervisors: Vec<Supervisor>,
    haproxy: Option<Haproxy>,
    discovery: PathBuf,
}

impl Shops {
    pub(crate) async fn start(plan: Plan, timeline: &Timeline) -> Result<Shops> {
        let fleet = plan.replicas > 1;
        let admin_token = uuid::Uuid::new_v4().simple().to_string();
        let session_key = fleet.then(|| {
            format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            )
        });
        let mut configs = Vec::with_capacity(plan.replicas);
        for i in 0..plan.replicas {
            let name = if fleet {
                format!("shop-{i}")
            } else {
                "shop".to_owned()
            };
            configs.push(ShopConfig {
                binary: plan.binary.clone(),
                database_url: plan.database_url.clone(),
                listen: shop::free_address()?,
                admin_listen: shop::free_address()?,
                admin_token: admin_token.clone(),
                log: plan.out.join(format!("{name}.log")),
                pid_file: plan.scratch.join(format!("{name}.pid")),
                session_key: session_key.clone(),
                restart_delay: plan.restart_delay,
                name,
            });
        }
        let mut supervisors = Vec::with_capacity(configs.len());
        // One after another: the first migrates and seeds the database.
        for config in &configs {
            supervisors.push(Supervisor::start(config.clone(), timeline.clone()).await?);
        }
        let haproxy = if fleet {
            let servers = configs
                .iter()
                .map(|c| {
                    Ok(Server {
                        name: c.name.clone(),
                        public: c.listen.parse()?,
                        admin: c.admin_listen.parse()?,
                    })
                })
                .collect::<Result<Vec<_>, std::net::AddrParseError>>()?;
            let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
            Some(
                Haproxy::start(any_port, any_port, &servers, &plan.scratch)
                    .await
                    .context("starting HAProxy in front of the replicas")?,
            )
        } else {
            None
        };
        let shops = Shops {
            discovery: plan.scratch.join("shop-targets.json"),
            configs,
            supervisors,
            haproxy,
        };
        shops.write_discovery()?;
        Ok(shops)
    }

    /// The `shop` Service (or the one shop).
    pub(crate) fn url(&self) -> String {
        match &self.haproxy {
            Some(haproxy) => haproxy.url(),
            None => self.configs[0].url(),
        }
    }

    /// The `shop-admin` Service (or the one shop's admin port).
    pub(crate) fn admin_url(&self) -> String {
        match &self.haproxy {
            Some(haproxy) => haproxy.admin_url(),
            None => self.configs[0].admin_url(),
        }
    }

    pub(crate) fn admin_token(&self) -> &str {
        &self.configs[0].admin_token
    }

    pub(crate) fn replicas(&self) -> usize {
        self.configs.len()
    }

    /// The pid file of the replica the graceful-shutdown drill stops.
    pub(crate) fn pid_file(&self) -> &Path {
        &self.configs[0].pid_file
    }

    /// The pid file of the replica the replica-kill step kills: another one
    /// than the drill's, when there are two or more.
    pub(crate) fn victim_pid_file(&self) -> &Path {
        &self.configs[self.configs.len().min(2) - 1].pid_file
    }

    /// Prometheus' file-based discovery of the replicas: each admin port a
    /// target of job `shop` with `instance` and `pod` set to its name.
    pub(crate) fn discovery_file(&self) -> &Path {
        &self.discovery
    }

    fn write_discovery(&self) -> Result<()> {
        let targets: Vec<_> = self
            .configs
            .iter()
            .map(|c| {
                json!({
                    "targets": [c.admin_listen],
                    "labels": { "instance": c.name, "pod": c.name },
                })
            })
            .collect();
        std::fs::write(&self.discovery, serde_json::to_vec_pretty(&targets)?)
            .with_context(|| format!("writing {}", self.discovery.display()))
    }

    /// SIGTERM to every replica, then HAProxy.
    pub(crate) async fn stop(self) {
        for supervisor in self.supervisors {
            supervisor.stop().await;
        }
        drop(self.haproxy);
    }
}
