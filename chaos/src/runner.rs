//! Runs an experiment: steady-state hypothesis, method, hypothesis again,
//! then the rollbacks, which always run. Safeguard probes are polled from the
//! start until the rollbacks; the first breach aborts whatever is running
//! and goes straight to the rollbacks. Nothing here fails: every outcome is
//! in the returned [`Journal`].
//!
//! - Completed: the hypothesis held after the method (and every method probe
//!   with a tolerance was within it).
//! - Deviated: it did not.
//! - Aborted: a safeguard breached, an action failed, the run was
//!   interrupted, or the hypothesis did not hold before the method (then
//!   nothing is injected).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    experiment::{
        Activity, ActivityKind, Experiment, HypothesisStrategy, Loaded, RollbackStrategy,
        Safeguards,
    },
    journal::{self, ActivityRun, HypothesisRun, Journal, Phase, RunStatus, SafeguardLog, Status},
};

mod activity;
mod context;
mod plan;
mod strategy;

pub use context::Context;
use strategy::Strategies;

/// Called with every activity run as it ends, for a live timeline.
pub type Observer = Arc<dyn Fn(&ActivityRun) + Send + Sync>;

/// How to run.
#[derive(Default, Clone)]
pub struct RunOptions {
    /// Validate and show the plan; probe and change nothing.
    pub dry_run: bool,
    /// The Kubernetes client to use (tests give a fake one); default: from
    /// the kubeconfig.
    pub kube_client: Option<kube::Client>,
    /// Cancelled from outside (SIGINT, SIGTERM): the run aborts and rolls back.
    pub interrupt: Option<CancellationToken>,
    pub observer: Option<Observer>,
    /// When the rollbacks run (default: the experiment's `runtime`, else always).
    pub rollback_strategy: Option<RollbackStrategy>,
    /// When the hypothesis is checked (default: the experiment's `runtime`,
    /// else before and after the method).
    pub hypothesis_strategy: Option<HypothesisStrategy>,
    /// Seconds between two checks during the method (default 1).
    pub hypothesis_frequency: Option<f64>,
    /// During the method, abort at the first deviation.
    pub fail_fast: bool,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("dry_run", &self.dry_run)
            .field("kube_client", &self.kube_client.is_some())
            .finish_non_exhaustive()
    }
}

/// Runs a loaded experiment; the journal records it as written.
pub async fn run_loaded(loaded: &Loaded, options: RunOptions) -> Journal {
    let mut journal = run(&loaded.experiment, options).await;
    journal.experiment = loaded.as_written.clone();
    journal.notes = loaded.notes.iter().map(ToString::to_string).collect();
    journal
}

/// Runs an experiment to its end and returns the journal.
pub async fn run(experiment: &Experiment, options: RunOptions) -> Journal {
    let started = SystemTime::now();
    let run = Run {
        ctx: Arc::new(Context::new(experiment, options.kube_client.clone())),
        clock: Instant::now(),
        abort: Abort::default(),
        observer: options.observer.clone(),
    };
    let mut journal = Journal {
        chaos_version: env!("CARGO_PKG_VERSION").to_owned(),
        title: experiment.title.clone(),
        experiment: serde_json::to_value(experiment).unwrap_or_default(),
        configuration: journal::redact(&experiment.configuration),
        status: Status::Completed,
        deviated: false,
        aborted: None,
        dry_run: options.dry_run,
        start: journal::timestamp(started),
        end: String::new(),
        duration: 0.0,
        steady_states: Default::default(),
        run: Vec::new(),
        rollbacks: Vec::new(),
        safeguards: SafeguardLog::default(),
        rollback_strategy: RollbackStrategy::default(),
        hypothesis_strategy: HypothesisStrategy::default(),
        rollbacks_skipped: None,
        notes: Vec::new(),
    };
    if options.dry_run {
        run.plan(experiment, &mut journal);
    } else {
        run.execute(experiment, &options, &mut journal).await;
    }
    journal.end = journal::timestamp(SystemTime::now());
    journal.duration = run.clock.elapsed().as_secs_f64();
    journal
}

/// The first reason to abort, and a token cancelled with it.
#[derive(Clone, Default)]
struct Abort {
    token: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
}

impl Abort {
    fn trigger(&self, reason: impl Into<String>) {
        let mut current = self
            .reason
            .lock()
            .expect("the abort lock is never poisoned");
        if current.is_none() {
            *current = Some(reason.into());
        }
        self.token.cancel();
    }

    fn reason(&self) -> Option<String> {
        self.reason
            .lock()
            .expect("the abort lock is never poisoned")
            .clone()
    }

    fn is_set(&self) -> bool {
        self.token.is_cancelled()
    }
}

#[derive(Clone)]
struct Run {
    ctx: Arc<Context>,
    clock: Instant,
    abort: Abort,
    observer: Option<Observer>,
}

impl Run {
    async fn execute(&self, experiment: &Experiment, options: &RunOptions, journal: &mut Journal) {
        let finished = CancellationToken::new();
        if let Some(interrupt) = options.interrupt.clone() {
            let (abort, finished) = (self.abort.clone(), finished.clone());
            tokio::spawn(async move {
                tokio::select! {
                    () = interrupt.cancelled() => abort.trigger("interrupted"),
                    () = finished.cancelled() => {}
                }
            });
        }
        let log = Arc::new(Mutex::new(SafeguardLog::default()));
        let safeguards = experiment.safeguards.clone().map(|s| {
            tokio::spawn(
                self.clone()
                    .poll_safeguards(s, log.clone(), finished.clone()),
            )
        });

        let strategies = Strategies::of(experiment, options);
        journal.rollback_strategy = strategies.rollbacks;
        journal.hypothesis_strategy = strategies.hypothesis;
        let hypothesis = experiment
            .steady_state_hypothesis
            .as_ref()
            .filter(|_| strategies.hypothesis != HypothesisStrategy::Skip);
        let mut deviated = false;
        if let Some(hypothesis) = hypothesis.filter(|_| strategies.hypothesis.before()) {
            let before = self
                .hypothesis(&hypothesis.probes, Phase::HypothesisBefore)
                .await;
            if !before.steady_state_met && !self.abort.is_set() {
                self.abort.trigger(
                    "the steady state did not hold before the method, so nothing was injected",
                );
            }
            journal.steady_states.before = Some(before);
        }
        let method_done = CancellationToken::new();
        let during = hypothesis
            .filter(|_| strategies.hypothesis.during())
            .map(|h| {
                tokio::spawn(self.clone().hypothesis_during(
                    h.probes.clone(),
                    strategies.frequency,
                    strategies.fail_fast,
                    method_done.clone(),
                ))
            });
        if !self.abort.is_set() {
            deviated |= self.method(&experiment.method, journal).await;
        }
        method_done.cancel();
        if let Some(Ok(runs)) = match during {
            Some(task) => Some(task.await),
            None => None,
        } {
            deviated |= runs.iter().any(|r| !r.steady_state_met);
            journal.steady_states.during = runs;
        }
        if let (Some(hypothesis), false) = (
            hypothesis.filter(|_| strategies.hypothesis.after()),
            self.abort.is_set(),
        ) {
            let after = self
                .hypothesis(&hypothesis.probes, Phase::HypothesisAfter)
                .await;
            deviated |= !after.steady_state_met;
            journal.steady_states.after = Some(after);
        }
        finished.cancel();
        if let Some(task) = safeguards {
            let _ = task.await;
        }
        journal.safeguards = log.lock().expect("the log lock is never poisoned").clone();

        // Rollbacks run (always, by default), all of them, and nothing
        // cancels them.
        let never = CancellationToken::new();
        let rollbacks = if strategies.rollbacks.plays(deviated) {
            &experiment.rollbacks[..]
        } else {
            if !experiment.rollbacks.is_empty() {
                journal.rollbacks_skipped = Some(format!(
                    "the rollback strategy is `{}`",
                    strategies.rollbacks.as_str()
                ));
            }
            &[]
        };
        for activity in rollbacks {
            pause(activity.pauses.before, &never).await;
            let run = self.activity(activity, Phase::Rollback, &never).await;
            journal.rollbacks.push(run);
            pause(activity.pauses.after, &never).await;
        }
        journal.aborted = self.abort.reason();
        journal.deviated = deviated;
        journal.status = match (&journal.aborted, deviated) {
            (Some(_), _) => Status::Aborted,
            (None, true) => Status::Deviated,
            (None, false) => Status::Completed,
        };
    }

    /// Runs the method; returns whether a method probe was out of tolerance.
    async fn method(&self, method: &[Activity], journal: &mut Journal) -> bool {
        let cancel = &self.abort.token;
        let mut deviated = false;
        let mut background: Vec<JoinHandle<ActivityRun>> = Vec::new();
        for activity in method {
            if self.abort.is_set() {
                break;
            }
            pause(activity.pauses.before, cancel).await;
            if self.abort.is_set() {
                break;
            }
            if activity.background {
                let (run, activity) = (self.clone(), activity.clone());
                background.push(tokio::spawn(async move {
                    let cancel = run.abort.token.clone();
                    run.activity(&activity, Phase::Method, &cancel).await
                }));
            } else {
                let run = self.activity(activity, Phase::Method, cancel).await;
                deviated |= self.judge(activity, &run);
                journal.run.push(run);
            }
            pause(activity.pauses.after, cancel).await;
        }
        for task in background {
            if let Ok(run) = task.await {
                let activity = method.iter().find(|a| a.name == run.name && a.background);
                if let Some(activity) = activity {
                    deviated |= self.judge(activity, &run);
                }
                journal.run.push(run);
            }
        }
        deviated
    }

    /// A failed action aborts the run; a probe out of tolerance deviates it.
    fn judge(&self, activity: &Activity, run: &ActivityRun) -> bool {
        if self.abort.is_set() {
            return false;
        }
        match activity.kind {
            ActivityKind::Action if run.status == RunStatus::Failed => {
                self.abort.trigger(format!(
                    "action `{}` failed: {}",
                    run.name,
                    run.error.as_deref().unwrap_or("no reason given")
                ));
                false
            }
            ActivityKind::Probe => !run.ok() && activity.tolerance.is_some(),
            ActivityKind::Action => false,
        }
    }

    async fn hypothesis(&self, probes: &[Activity], phase: Phase) -> HypothesisRun {
        let mut runs = Vec::new();
        for probe in probes {
            if self.abort.is_set() {
                break;
            }
            runs.push(self.activity(probe, phase, &self.abort.token).await);
        }
        HypothesisRun {
            steady_state_met: runs.len() == probes.len() && runs.iter().all(ActivityRun::ok),
            probes: runs,
        }
    }

    async fn poll_safeguards(
        self,
        safeguards: Safeguards,
        log: Arc<Mutex<SafeguardLog>>,
        finished: CancellationToken,
    ) {
        let interval = Duration::from_secs_f64(safeguards.interval);
        loop {
            for probe in &safeguards.probes {
                let run = self
                    .activity_quietly(probe, Phase::Safeguard, &finished)
                    .await;
                if finished.is_cancelled() {
                    return;
                }
                if !run.ok() {
                    self.notify(&run);
                    let detail = run
                        .error
                        .clone()
                        .or_else(|| run.tolerance.as_ref().map(|t| t.detail.clone()))
                        .unwrap_or_default();
                    self.abort
                        .trigger(format!("safeguard `{}` breached: {detail}", run.name));
                    let mut log = log.lock().expect("the log lock is never poisoned");
                    log.checks += 1;
                    log.breaches.push(run);
                    return;
                }
            }
            log.lock().expect("the log lock is never poisoned").checks += 1;
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = finished.cancelled() => return,
            }
        }
    }

    fn notify(&self, run: &ActivityRun) {
        if let Some(observer) = &self.observer {
            observer(run);
        }
    }
}

async fn pause(seconds: f64, cancel: &CancellationToken) {
    if seconds > 0.0 {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs_f64(seconds)) => {}
            () = cancel.cancelled() => {}
        }
    }
}
