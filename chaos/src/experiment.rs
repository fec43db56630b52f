//! The experiment format: a Chaos Toolkit experiment (`title`,
//! `description`, `tags`, `configuration`, `steady-state-hypothesis`,
//! `method`, `rollbacks`, activities with `pauses`) plus `safeguards`, a
//! `blast-radius`, the `runbook` it exercises and the alerts it should raise.
//!
//! A plain Chaos Toolkit experiment (JSON or YAML) loads as it is: its
//! `configuration` and `secrets` with `env` entries, `${name}` substitution,
//! the `http` and `process` providers, every tolerance form, `pauses`, `ref`s
//! and `runtime` strategies; `controls` and `extensions` are ignored with a
//! note. The project's own provider types are extensions on top.
//!
//! Loading goes: JSON or YAML → the Chaos Toolkit's fields the runner ignores
//! set aside with a note, unknown provider types found ([`compat`]) →
//! `configuration`, `secrets` and `${name}` substitution ([`substitute`]) →
//! `ref` resolution → typed structs (the first type error names its field) →
//! [`validate`] (every semantic problem, each naming its field).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::{Error, Problem, Result};

mod compat;
mod provider;
mod refs;
mod strategy;
mod substitute;
mod tolerance;
pub mod validate;
mod vars;

pub use provider::*;
pub use strategy::{HypothesisStrategy, RollbackStrategy, Runtime};
pub use tolerance::{Tolerance, ToleranceCheck};
pub use vars::Vars;

/// An experiment, substituted and validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Experiment {
    /// Format version, for Chaos Toolkit readers (`1.0.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The runbook this experiment exercises, relative to the experiment file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// Alerts the fault should raise (names from `alerts/generated/`).
    #[serde(default)]
    pub expected_alerts: Vec<String>,
    /// Targets and free variables, after `${ENV}` substitution.
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
    /// Secrets by scope, resolved; never serialised, so never journaled.
    #[serde(default, skip_serializing)]
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
    /// The Chaos Toolkit's `contributions` (what the experiment informs on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contributions: Option<serde_json::Value>,
    /// The Chaos Toolkit's rollback and hypothesis strategies; the CLI's
    /// flags take precedence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
    #[serde(default)]
    pub blast_radius: BlastRadius,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_state_hypothesis: Option<Hypothesis>,
    pub method: Vec<Activity>,
    #[serde(default)]
    pub rollbacks: Vec<Activity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safeguards: Option<Safeguards>,
}

/// Probes that must all be within tolerance before and after the method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hypothesis {
    pub title: String,
    pub probes: Vec<Activity>,
}

/// Probes polled for the whole run; one out of tolerance aborts the method
/// and runs the rollbacks at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Safeguards {
    #[serde(default)]
    pub title: String,
    /// Seconds between two polls.
    #[serde(default = "one_second")]
    pub interval: f64,
    pub probes: Vec<Activity>,
}

fn one_second() -> f64 {
    1.0
}

/// Limits every action of the experiment must stay within.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BlastRadius {
    /// Hosts every URL must point at (`127.0.0.1`, `localhost`...); empty: any.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Kubernetes namespaces actions may touch; empty: any.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Most pods or processes one action may hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_targets: Option<u32>,
}

/// A probe (observes) or an action (changes something).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    #[serde(rename = "type")]
    pub kind: ActivityKind,
    pub name: String,
    pub provider: Provider,
    /// For probes: what the output must be. In the method, a probe out of
    /// tolerance marks the experiment deviated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Tolerance>,
    #[serde(default)]
    pub pauses: Pauses,
    /// Run concurrently with the next activities; joined before the
    /// hypothesis is checked again.
    #[serde(default)]
    pub background: bool,
    /// Upper bound in seconds (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// For probes with a tolerance: try again until it is met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
}

/// Probe again until the tolerance is met, to wait for a recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Tries in all, 1 to 600.
    pub attempts: u32,
    /// Seconds between two tries.
    pub interval: f64,
}

impl Activity {
    pub const DEFAULT_TIMEOUT: f64 = 120.0;

    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.timeout.unwrap_or(Self::DEFAULT_TIMEOUT))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    Probe,
    Action,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Probe => "probe",
            ActivityKind::Action => "action",
        }
    }
}

/// Seconds to wait before and after an activity: numbers, or numeric text
/// (what `${name}` of an environment variable gives).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pauses {
    #[serde(default, deserialize_with = "seconds")]
    pub before: f64,
    #[serde(default, deserialize_with = "seconds")]
    pub after: f64,
}

fn seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(f64),
        Text(String),
    }
    match Seconds::deserialize(deserializer)? {
        Seconds::Number(n) => Ok(n),
        Seconds::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("`{t}` is not a number of seconds"))),
    }
}

impl Experiment {
    /// Reads, substitutes, resolves and validates an experiment file.
    pub fn load(path: impl AsRef<Path>, vars: &Vars) -> Result<Experiment> {
        Ok(Loaded::load(path, vars)?.experiment)
    }

    /// Parses an experiment from text; relative paths (the runbook) are
    /// taken from `base_dir` when given.
    pub fn parse(
        yaml: &str,
        origin: &str,
        base_dir: Option<&Path>,
        vars: &Vars,
    ) -> Result<Experiment> {
        Ok(Loaded::parse(yaml, origin, base_dir, vars)?.experiment)
    }

    /// Every activity with the section it is in, in run order.
    pub fn activities(&self) -> impl Iterator<Item = (String, &Activity)> {
        let hypothesis = self
            .steady_state_hypothesis
            .iter()
            .flat_map(|h| h.probes.iter().enumerate())
            .map(|(i, a)| (format!("steady-state-hypothesis.probes[{i}]"), a));
        let method = self
            .method
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("method[{i}]"), a));
        let rollbacks = self
            .rollbacks
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("rollbacks[{i}]"), a));
        let safeguards = self
            .safeguards
            .iter()
            .flat_map(|s| s.probes.iter().enumerate())
            .map(|(i, a)| (format!("safeguards.probes[{i}]"), a));
        hypothesis.chain(method).chain(rollbacks).chain(safeguards)
    }
}

/// An experiment and its source as written (before substitution), which the
/// journal records so that no substituted secret ends up in it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub experiment: Experiment,
    pub as_written: serde_json::Value,
    pub origin: String,
    /// What was read but is ignored (`controls`...), each naming its field.
    pub notes: Vec<Problem>,
}

impl Loaded {
    pub fn load(path: impl AsRef<Path>, vars: &Vars) -> Result<Loaded> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Loaded::parse(&text, &path.display().to_string(), Some(&base), vars)
    }

    pub fn parse(yaml: &str, origin: &str, base_dir: Option<&Path>, vars: &Vars) -> Result<Loaded> {
        let invalid = |problems: Vec<Problem>| Error::Invalid {
            origin: origin.to_owned(),
            problems,
        };
        // A `.json` file is parsed as JSON, for JSON's own error messages.
        let parsed = if origin.ends_with(".json") {
            serde_json::from_str::<serde_yaml::Value>(yaml).map_err(|e| {
                Problem::new(
                    format!("line {}, column {}", e.line(), e.column()),
                    format!("not valid JSON: {e}"),
                )
            })
        } else {
            serde_yaml::from_str(yaml).map_err(|e| {
                let field = e
                    .location()
                    .map(|l| format!("line {}, column {}", l.line(), l.column()))
                    .unwrap_or_default();
                Problem::new(field, format!("not valid JSON or YAML: {e}"))
            })
        };
        let mut value = parsed.map_err(|problem| invalid(vec![problem]))?;
        if !value.is_mapping() {
            return Err(invalid(vec![Problem::new(
                "",
                "an experiment is a JSON or YAML mapping with `title`, `method`...",
            )]));
        }
        let as_written = serde_json::to_value(&value).unwrap_or_default();
        let (notes, mut problems) = compat::set_aside(&mut value);
        problems.extend(substitute::substitute(&mut value, vars));
        problems.extend(refs::resolve(&mut value));
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let experiment: Experiment = serde_path_to_error::deserialize(value).map_err(|e| {
            let field = e.path().to_string();
            let field = if field == "." { String::new() } else { field };
            invalid(vec![Problem::new(field, e.into_inner().to_string())])
        })?;
        let problems = validate::problems(&experiment, base_dir);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(Loaded {
            experiment,
            as_written,
            origin: origin.to_owned(),
            notes,
        })
    }
}

/// The well-known `configuration` keys: where the targets are.
pub mod targets {
    /// Public base URL of the shop, e.g. `http://127.0.0.1:8080`.
    pub const SHOP_URL: &str = "shop_url";
    /// Admin base URL (metrics, readiness, fault API).
    pub const ADMIN_URL: &str = "admin_url";
    /// Bearer token of the fault API.
    pub const ADMIN_TOKEN: &str = "admin_token";
    pub const PROMETHEUS_URL: &str = "prometheus_url";
    /// Base URL of the fault proxy's (or a Toxiproxy's) HTTP API.
    pub const PROXY_API: &str = "proxy_api";
    pub const KUBE_CONTEXT: &str = "kube_context";
    pub const KUBE_NAMESPACE: &str = "kube_namespace";
}

/// Where a journal should go by default: beside the experiment.
pub fn default_journal_path(experiment: &Path) -> PathBuf {
    let stem = experiment
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    PathBuf::from(format!("{stem}.journal.json"))
}
