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
                output: Some(serde_json::json!({
                    "provider": activity.provider,
                    "undoable": actions::undoable(&activity.provider),
                })),
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
