//! Semantic checks of a parsed experiment, and the reference checks: `undo`
//! names a method action, the runbook exists, expected alerts and SLOs are
//! the ones `alerts` defines, every URL is within the blast radius.

use std::{collections::BTreeSet, path::Path, sync::OnceLock};

use reqwest::Url;

use super::{targets, Activity, ActivityKind, Experiment, Provider, Tolerance};
use crate::Problem;

mod provider;
mod standard;

pub use provider::parse_selector;

/// Signals a process action may send.
pub const SIGNALS: &[&str] = &["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGSTOP"];

/// Everything wrong with an experiment; empty when it is valid. Relative
/// paths (the runbook) are checked from `base_dir` when given.
pub fn problems(experiment: &Experiment, base_dir: Option<&Path>) -> Vec<Problem> {
    let mut check = Check {
        experiment,
        problems: Vec::new(),
    };
    check.experiment_fields(base_dir);
    for (path, activity) in experiment.activities() {
        check.activity(&path, activity);
    }
    check.sections();
    check.problems
}

struct Check<'a> {
    experiment: &'a Experiment,
    problems: Vec<Problem>,
}

impl Check<'_> {
    fn problem(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(field, message));
    }

    fn experiment_fields(&mut self, base_dir: Option<&Path>) {
        let e = self.experiment;
        if e.title.trim().is_empty() {
            self.problem("title", "an experiment needs a title");
        }
        if e.method.is_empty() {
            self.problem("method", "the method needs at least one activity");
        }
        if let (Some(runbook), Some(base)) = (&e.runbook, base_dir) {
            if !base.join(runbook).is_file() {
                self.problem(
                    "runbook",
                    format!("no runbook at {runbook} (relative to the experiment file)"),
                );
            }
        }
        let known = alert_names();
        for (i, alert) in e.expected_alerts.iter().enumerate() {
            if !known.contains(alert) {
                self.problem(
                    format!("expected-alerts[{i}]"),
                    format!(
                        "no alert named `{alert}` in the alerts crate's rules; known: {}",
                        known.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
        for key in [
            targets::SHOP_URL,
            targets::ADMIN_URL,
            targets::PROMETHEUS_URL,
            targets::PROXY_API,
        ] {
            if let Some(url) = e.configuration.get(key).filter(|u| !u.is_empty()) {
                self.url(&format!("configuration.{key}"), url);
            }
        }
        if let Some(safeguards) = &e.safeguards {
            if !(safeguards.interval > 0.0 && safeguards.interval <= 60.0) {
                self.problem("safeguards.interval", "between 0 and 60 seconds");
            }
            if safeguards.probes.is_empty() {
                self.problem("safeguards.probes", "safeguards need at least one probe");
            }
        }
        if let Some(hypothesis) = &e.steady_state_hypothesis {
            if hypothesis.probes.is_empty() {
                self.problem(
                    "steady-state-hypothesis.probes",
                    "a hypothesis needs at least one probe",
                );
            }
        }
    }

    fn url(&mut self, field: &str, url: &str) {
        match Url::parse(url) {
            Ok(parsed)
                if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() =>
            {
                let hosts = &self.experiment.blast_radius.hosts;
                let host = parsed
                    .host_str()
                    .unwrap_or_default()
                    .trim_matches(['[', ']']);
                if !hosts.is_empty() && !hosts.iter().any(|h| h.trim_matches(['[', ']']) == host) {
                    self.problem(
                        field,
                        format!(
                            "{url} is outside the blast radius: its host is not in blast-radius.hosts ({})",
                            hosts.join(", ")
                        ),
                    );
                }
            }
            _ => self.problem(field, format!("`{url}` is not an http:// or https:// URL")),
        }
    }

    /// A URL given on the provider or else by a configuration key.
    fn target_url(&mut self, path: &str, field: &str, given: Option<&str>, key: &str) {
        match given {
            Some(url) => self.url(&format!("{path}.{field}"), url),
            None if self
                .experiment
                .configuration
                .get(key)
                .is_some_and(|u| !u.is_empty()) => {}
            None => {
                let hint = if field.is_empty() {
                    String::new()
                } else {
                    format!(" or `{field}` here")
                };
                self.problem(path, format!("needs `configuration.{key}`{hint}"));
            }
        }
    }

    fn method(&mut self, field: &str, method: &str) {
        if reqwest::Method::from_bytes(method.as_bytes()).is_err() || method.is_empty() {
            self.problem(field, format!("`{method}` is not an HTTP method"));
        }
    }

    fn seconds(&mut self, field: &str, seconds: Option<f64>, max: f64) {
        if let Some(s) = seconds {
            if !(s > 0.0 && s <= max) {
                self.problem(field, format!("more than 0 and at most {max} seconds"));
            }
        }
    }

    /// Rules that depend on the section an activity is in.
    fn sections(&mut self) {
        let e = self.experiment;
        let hypothesis = e.steady_state_hypothesis.iter().flat_map(|h| {
            h.probes
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("steady-state-hypothesis.probes[{i}]"), a))
        });
        let safeguards = e.safeguards.iter().flat_map(|s| {
            s.probes
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("safeguards.probes[{i}]"), a))
        });
        for (path, activity) in hypothesis.chain(safeguards).collect::<Vec<_>>() {
            if activity.kind != ActivityKind::Probe {
                self.problem(format!("{path}.type"), "only probes may be here");
            }
            if activity.tolerance.is_none() {
                self.problem(
                    format!("{path}.tolerance"),
                    "a probe here needs a tolerance",
                );
            }
            if activity.background {
                self.problem(
                    format!("{path}.background"),
                    "only method activities run in the background",
                );
            }
        }
        for (i, activity) in e.rollbacks.iter().enumerate() {
            if activity.kind != ActivityKind::Action {
                self.problem(format!("rollbacks[{i}].type"), "rollbacks are actions");
            }
            if activity.background {
                self.problem(
                    format!("rollbacks[{i}].background"),
                    "rollbacks run one after the other",
                );
            }
        }
        let undoable: BTreeSet<&str> = e
            .method
            .iter()
            .filter(|a| a.kind == ActivityKind::Action && !matches!(a.provider, Provider::Undo(_)))
            .map(|a| a.name.as_str())
            .collect();
        for (path, activity) in e.activities() {
            if let Provider::Undo(undo) = &activity.provider {
                if !undoable.contains(undo.action.as_str()) {
                    self.problem(
                        format!("{path}.provider.action"),
                        format!(
                            "`undo` names a method action; `{}` is not one (method actions: {})",
                            undo.action,
                            undoable.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }
    }

    fn activity(&mut self, path: &str, a: &Activity) {
        if a.name.trim().is_empty() {
            self.problem(format!("{path}.name"), "an activity needs a name");
        }
        let is_probe = a.provider.is_probe();
        match a.kind {
            _ if a.provider.is_either() => {}
            ActivityKind::Probe if !is_probe => self.problem(
                format!("{path}.type"),
                format!(
                    "a {} provider is an action, not a probe",
                    a.provider.type_name()
                ),
            ),
            ActivityKind::Action if is_probe => self.problem(
                format!("{path}.type"),
                format!(
                    "a {} provider is a probe, not an action",
                    a.provider.type_name()
                ),
            ),
            _ => {}
        }
        if a.tolerance.is_some() && a.kind == ActivityKind::Action {
            self.problem(format!("{path}.tolerance"), "only probes have a tolerance");
        }
        for (field, seconds) in [("before", a.pauses.before), ("after", a.pauses.after)] {
            if !(0.0..=3600.0).contains(&seconds) {
                self.problem(
                    format!("{path}.pauses.{field}"),
                    "a pause is 0 to 3600 seconds",
                );
            }
        }
        if let Some(timeout) = a.timeout {
            if !(timeout > 0.0 && timeout <= 3600.0) {
                self.problem(
                    format!("{path}.timeout"),
                    "a timeout is more than 0 and at most 3600 seconds",
                );
            }
        }
        if let Some(retry) = &a.retry {
            if a.tolerance.is_none() {
                self.problem(
                    format!("{path}.retry"),
                    "only a probe with a tolerance is retried",
                );
            }
            if !(1..=600).contains(&retry.attempts) {
                self.problem(format!("{path}.retry.attempts"), "1 to 600 tries");
            }
            if !(retry.interval >= 0.0 && retry.interval <= 60.0) {
                self.problem(format!("{path}.retry.interval"), "0 to 60 seconds");
            }
        }
        if let Some(Tolerance::Probe(probe)) = &a.tolerance {
            let field = format!("{path}.tolerance");
            if probe.kind != ActivityKind::Probe {
                self.problem(format!("{field}.type"), "a tolerance runs a probe");
            }
            self.activity(&field, probe);
        }
        self.provider(&format!("{path}.provider"), &a.provider);
    }
}

/// The SLI windows the `alerts` rules record.
pub fn sli_windows() -> Vec<String> {
    alerts::period::Period::default()
        .sli_windows()
        .into_iter()
        .map(alerts::promql::format_duration)
        .collect()
}

/// Every alert name the `alerts` crate generates.
pub fn alert_names() -> BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            let spec = alerts::spec::SloSpec::shipped();
            let options = alerts::generate::Options::default();
            alerts::generate::generate(&spec, "slo.yaml", &options)
                .unwrap_or_default()
                .iter()
                .filter_map(|file| alerts::rules::RuleFile::from_yaml(&file.contents).ok())
                .flat_map(|file| {
                    file.alerts()
                        .filter_map(|r| r.alert.clone())
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alerts_crate_names_its_alerts_and_windows() {
        let names = alert_names();
        assert!(names.contains("ShopAvailabilityBudgetBurn"));
        assert!(names.contains("ShopNotReady"));
        assert!(sli_windows().contains(&"5m".to_owned()));
    }
}
