//! The run-time strategies of a run, and the hypothesis checked during the
//! method (`during-method-only`, `continuously`).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Run, RunOptions};
use crate::{
    experiment::{Activity, Experiment, HypothesisStrategy, RollbackStrategy},
    journal::{HypothesisRun, Phase},
};

/// The strategies of a run: the CLI's, else the experiment's `runtime`.
pub(super) struct Strategies {
    pub(super) rollbacks: RollbackStrategy,
    pub(super) hypothesis: HypothesisStrategy,
    pub(super) frequency: f64,
    pub(super) fail_fast: bool,
}

impl Strategies {
    pub(super) fn of(experiment: &Experiment, options: &RunOptions) -> Strategies {
        let runtime = experiment.runtime.clone().unwrap_or_default();
        let hypothesis = runtime.hypothesis.unwrap_or_default();
        Strategies {
            rollbacks: options
                .rollback_strategy
                .or(runtime.rollbacks.map(|r| r.strategy))
                .unwrap_or_default(),
            hypothesis: options.hypothesis_strategy.unwrap_or(hypothesis.strategy),
            frequency: options
                .hypothesis_frequency
                .or(hypothesis.frequency)
                .unwrap_or(1.0)
                .clamp(0.1, 3600.0),
            fail_fast: options.fail_fast || hypothesis.fail_fast.unwrap_or(false),
        }
    }
}

impl Run {
    /// The hypothesis, again and again until the method ends; the first
    /// deviation aborts the run when `fail_fast`.
    pub(super) async fn hypothesis_during(
        self,
        probes: Vec<Activity>,
        frequency: f64,
        fail_fast: bool,
        done: CancellationToken,
    ) -> Vec<HypothesisRun> {
        // At least one check, however short the method.
        let mut runs = Vec::new();
        loop {
            let run = self.hypothesis(&probes, Phase::HypothesisDuring).await;
            let met = run.steady_state_met;
            runs.push(run);
            if !met && fail_fast {
                self.abort
                    .trigger("the steady state deviated during the method (fail fast)");
            }
            if done.is_cancelled() || self.abort.is_set() {
                return runs;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs_f64(frequency)) => {}
                () = done.cancelled() => return runs,
            }
        }
    }
}
