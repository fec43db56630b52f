//! A dry run: the plan, every activity skipped, nothing probed or changed.

use super::Run;
use crate::{
    actions,
    experiment::{Activity, Experiment},
    journal::{ActivityRun, HypothesisRun, Journal, Phase, RunStatus},
};

impl Run {
    /// A dry run: every activity, in order, skipped.
    pub(super) fn plan(&self, experiment: &Experiment, journal: &mut Journal) {
        let skipped = |activity: &Activity, phase: Phase| {
            let run = ActivityRun {
                name: activity.name.clone(),
                kind: activity.kind,
                provider: activity.provider.type_name().to_owned(),
                phase,
                status: RunStatus::Skipped,
                background: activity.background,
                start: journal.start.clone(),
                end: journal.start.clone(),
                offset: 0.0,
                duration: 0.0,
                output: Some(hide_secrets(
                    serde_json::json!({
                        "provider": activity.provider,
                        "undoable": actions::undoable(&activity.provider),
                    }),
                    experiment,
                )),
                error: None,
                tolerance: None,
                attempts: None,
            };
            self.notify(&run);
            run
        };
        if let Some(h) = &experiment.steady_state_hypothesis {
            journal.steady_states.before = Some(HypothesisRun {
                steady_state_met: true,
                probes: h
                    .probes
                    .iter()
                    .map(|p| skipped(p, Phase::HypothesisBefore))
                    .collect(),
            });
        }
        journal.run = experiment
            .method
            .iter()
            .map(|a| skipped(a, Phase::Method))
            .collect();
        if let Some(h) = &experiment.steady_state_hypothesis {
            journal.steady_states.after = Some(HypothesisRun {
                steady_state_met: true,
                probes: h
                    .probes
                    .iter()
                    .map(|p| skipped(p, Phase::HypothesisAfter))
                    .collect(),
            });
        }
        journal.rollbacks = experiment
            .rollbacks
            .iter()
            .map(|a| skipped(a, Phase::Rollback))
            .collect();
        if let Some(s) = &experiment.safeguards {
            for probe in &s.probes {
                skipped(probe, Phase::Safeguard);
            }
        }
    }
}

/// The provider as substituted holds the secrets' values (a bearer token in a
/// header); the plan shows `***` in their place.
fn hide_secrets(mut value: serde_json::Value, experiment: &Experiment) -> serde_json::Value {
    let secrets: Vec<&str> = experiment
        .secrets
        .values()
        .flat_map(|scope| scope.values())
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    fn walk(value: &mut serde_json::Value, secrets: &[&str]) {
        match value {
            serde_json::Value::String(text) => {
                for secret in secrets {
                    if text.contains(secret) {
                        *text = text.replace(secret, "***");
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, secrets)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| walk(v, secrets)),
            _ => {}
        }
    }
    walk(&mut value, &secrets);
    value
}
