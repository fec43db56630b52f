//! The game-day scenario file: which experiments to run, in order, and what
//! each must prove (alerts that fire and resolve within bounds, probes that
//! pass, no lost order).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use anyhow::{bail, Context as _, Result};

use crate::Problem;

/// Which database the shop runs on during the game day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The embedded SQLite file: database faults come from the shop's fault
    /// API (`target: database`), since there is no link to break.
    Sqlite,
    /// PostgreSQL at `DATABASE_URL`, reached through the fault proxy.
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Every range and `for:` of the alert rules is divided by this, so
    /// that a 5-minute window lasts 5 seconds at 60. The alert logic is
    /// unchanged; only time runs faster.
    pub time_scale: u32,
    /// Load before the first experiment, so the SLI windows hold traffic.
    pub warm_up_seconds: u64,
    /// How long a killed shop process stays down before it is started
    /// again, as a kubelet's first restart back-off (10 s) keeps a crashed
    /// container down. Not compressed: it is real time.
    #[serde(default = "default_restart_delay")]
    pub restart_delay_seconds: f64,
    pub load: Load,
    pub steps: Vec<Step>,
    /// Where the file was read from; experiments are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The background traffic, by `loadgen run`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Load {
    pub users: u32,
    /// Goose's `--throttle-requests`: the steady rate.
    pub requests_per_second: u32,
    /// Orders the game day places itself, through the JSON API, to check
    /// that none is lost; 0 turns the ledger off.
    #[serde(default = "default_orders_per_second")]
    pub orders_per_second: f64,
}

fn default_orders_per_second() -> f64 {
    2.0
}

fn default_restart_delay() -> f64 {
    10.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Step {
    pub name: String,
    pub experiment: ExperimentRef,
    #[serde(default)]
    pub alerts: Vec<ExpectedAlert>,
    /// Method probes that must be within tolerance.
    #[serde(default)]
    pub probes_pass: Vec<String>,
    /// `held`: the steady state must hold after the method.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Every order acknowledged during the step must exist afterwards.
    #[serde(default)]
    pub no_lost_orders: bool,
    /// Alerts that must not fire during the step; the report says why they
    /// did or did not (for burn-rate alerts, the worst error ratio against
    /// the threshold).
    #[serde(default)]
    pub stays_quiet: Vec<QuietAlert>,
    /// The step runs only on a game day with at least this many replicas
    /// (killing the only replica is a shop outage, not a replica kill).
    #[serde(default)]
    pub min_replicas: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct QuietAlert {
    pub alert: String,
    #[serde(default)]
    pub severity: Option<String>,
}

impl QuietAlert {
    pub fn describe(&self) -> String {
        match &self.severity {
            Some(severity) => format!("{} ({severity})", self.alert),
            None => self.alert.clone(),
        }
    }
}

/// One experiment for every backend, or one per backend.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ExperimentRef {
    Any(PathBuf),
    PerBackend(BTreeMap<Backend, PathBuf>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Held,
    Deviated,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExpectedAlert {
    pub alert: String,
    /// Only alerts with this `severity` label count.
    #[serde(default)]
    pub severity: Option<String>,
    /// Seconds from the fault's start to the alert firing.
    pub fire_within: f64,
    /// Seconds from the fault's end (rollback done) to the alert resolved.
    pub resolve_within: f64,
}

impl ExpectedAlert {
    /// `ShopAvailabilityBudgetBurn (page)`.
    pub fn describe(&self) -> String {
        match &self.severity {
            Some(severity) => format!("{} ({severity})", self.alert),
            None => self.alert.clone(),
        }
    }
}

impl Step {
    /// The experiment file for `backend`, or `None` if the step does not
    /// run on it.
    pub fn experiment_for(&self, dir: &Path, backend: Backend) -> Option<PathBuf> {
        match &self.experiment {
            ExperimentRef::Any(path) => Some(dir.join(path)),
            ExperimentRef::PerBackend(paths) => paths.get(&backend).map(|p| dir.join(p)),
        }
    }
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the scenario {}", path.display()))?;
        let origin = path.display().to_string();
        let mut scenario: Scenario =
            match serde_path_to_error::deserialize(serde_yaml::Deserializer::from_str(&text)) {
                Ok(scenario) => scenario,
                Err(e) => invalid(
                    &origin,
                    &[Problem::new(e.path().to_string(), e.inner().to_string())],
                )?,
            };
        scenario.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        scenario.validate(&origin)?;
        Ok(scenario)
    }

    fn validate(&self, origin: &str) -> Result<()> {
        let mut problems = Vec::new();
        let mut problem =
            |field: String, message: &str| problems.push(Problem::new(field, message));
        if self.time_scale == 0 || self.time_scale > 3600 {
            problem("time-scale".into(), "must be 1 to 3600");
        }
        if self.load.users == 0 || self.load.requests_per_second == 0 {
            problem(
                "load".into(),
                "users and requests-per-second must be above 0",
            );
        }
        if !(0.0..=50.0).contains(&self.load.orders_per_second) {
            problem("load.orders-per-second".into(), "must be 0 to 50");
        }
        if !(0.0..=600.0).contains(&self.restart_delay_seconds) {
            problem("restart-delay-seconds".into(), "must be 0 to 600");
        }
        if self.steps.is_empty() {
            problem("steps".into(), "a game day needs at least one step");
        }
        for (i, step) in self.steps.iter().enumerate() {
            let paths: Vec<PathBuf> = match &step.experiment {
                ExperimentRef::Any(path) => vec![path.clone()],
                ExperimentRef::PerBackend(paths) => paths.values().cloned().collect(),
            };
            for path in paths {
                if !self.dir.join(&path).is_file() {
                    problem(
                        format!("steps[{i}].experiment"),
                        &format!("no experiment file at {}", self.dir.join(&path).display()),
                    );
                }
            }
            for (j, alert) in step.alerts.iter().enumerate() {
                if !(alert.fire_within > 0.0 && alert.resolve_within > 0.0) {
                    problem(
                        format!("steps[{i}].alerts[{j}]"),
                        "fire-within and resolve-within are seconds above 0",
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            invalid(origin, &problems)
        }
    }
}

fn invalid<T>(origin: &str, problems: &[Problem]) -> Result<T> {
    let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    bail!(
        "{origin} is not a valid game-day scenario:\n{}",
        list.join("\n")
    )
}
