use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
    time::Duration,
};

use tokio::sync::OnceCell;

use crate::{
    experiment::{targets, BlastRadius, Experiment},
    undo::UndoState,
    Error, Result,
};

/// What activities share during a run: targets, clients, and what each
/// action did so that `undo` can take it back.
pub struct Context {
    configuration: BTreeMap<String, String>,
    blast_radius: BlastRadius,
    http: reqwest::Client,
    kube: OnceCell<kube::Client>,
    undo: Mutex<HashMap<String, Vec<UndoState>>>,
}

impl Context {
    pub fn new(experiment: &Experiment, kube: Option<kube::Client>) -> Context {
        let http = reqwest::Client::builder()
            // Probes see redirects as they are; traffic never goes through an
            // HTTP proxy from the environment.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("a plain HTTP client builds");
        Context {
            configuration: experiment.configuration.clone(),
            blast_radius: experiment.blast_radius.clone(),
            http,
            kube: OnceCell::new_with(kube),
            undo: Mutex::default(),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A configuration value, when set and not empty.
    pub fn config(&self, key: &str) -> Option<&str> {
        self.configuration
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A target URL given on the provider, or else by a configuration key.
    pub fn target(&self, given: Option<&str>, key: &str) -> Result<String> {
        given
            .or_else(|| self.config(key))
            .map(|u| u.trim_end_matches('/').to_owned())
            .ok_or_else(|| Error::Api(format!("configuration.{key} is not set")))
    }

    pub fn blast_radius(&self) -> &BlastRadius {
        &self.blast_radius
    }

    /// The Kubernetes client: the one given to the run, or one from the
    /// kubeconfig (`configuration.kube_context`) or the in-cluster config.
    pub async fn kube(&self) -> Result<kube::Client> {
        let client = self
            .kube
            .get_or_try_init(|| async {
                let options = kube::config::KubeConfigOptions {
                    context: self.config(targets::KUBE_CONTEXT).map(str::to_owned),
                    ..Default::default()
                };
                let mut config = match kube::Config::from_kubeconfig(&options).await {
                    Ok(config) => config,
                    Err(kubeconfig) => kube::Config::incluster().map_err(|_| {
                        Error::Api(format!("no Kubernetes configuration: {kubeconfig}"))
                    })?,
                };
                if let Some(namespace) = self.config(targets::KUBE_NAMESPACE) {
                    config.default_namespace = namespace.to_owned();
                }
                kube::Client::try_from(config).map_err(Error::from)
            })
            .await?;
        Ok(client.clone())
    }

    /// The namespace of a Kubernetes action.
    pub fn namespace(&self, given: Option<&str>, client: &kube::Client) -> String {
        given
            .or_else(|| self.config(targets::KUBE_NAMESPACE))
            .unwrap_or(client.default_namespace())
            .to_owned()
    }

    pub(crate) fn remember(&self, action: &str, undo: UndoState) {
        self.undo
            .lock()
            .expect("the undo lock is never poisoned")
            .entry(action.to_owned())
            .or_default()
            .push(undo);
    }

    /// What to undo for an action, newest first; each is handed out once.
    pub(crate) fn take(&self, action: &str) -> Vec<UndoState> {
        let mut undo = self
            .undo
            .lock()
            .expect("the undo lock is never poisoned")
            .remove(action)
            .unwrap_or_default();
        undo.reverse();
        undo
    }
}
