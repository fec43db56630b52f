//! The journal in the Chaos Toolkit's shape (`status`, `deviated`,
//! `steady_states`, `run`, `rollbacks`, each run with its `activity`,
//! `status`, `output`, `start`, `end`, `duration`), so that tools reading
//! Chaos Toolkit journals read these. This runner's own record rides along
//! in extra keys: `outcome` (completed, deviated or aborted: the exit code),
//! `aborted`, `safeguards`, `configuration` (secrets redacted), the
//! strategies, and per run its `phase`, `offset`, `tolerance` verdict and
//! `provider`.

use serde_json::{json, Map, Value};

use super::{ActivityRun, HypothesisRun, Journal, RunStatus, Status};

/// The `status` values the Chaos Toolkit's journal allows.
fn ctk_status(journal: &Journal) -> &'static str {
    let ran = |h: &Option<HypothesisRun>| {
        h.as_ref()
            .is_none_or(|h| h.probes.iter().all(|p| p.status != RunStatus::Failed))
    };
    match (journal.status, journal.aborted.as_deref()) {
        (Status::Aborted, Some("interrupted")) => "interrupted",
        (Status::Aborted, _) if journal.run.is_empty() && journal.steady_states.after.is_none() => {
            // The gate: the hypothesis did not hold before the method.
            if ran(&journal.steady_states.before) {
                "completed"
            } else {
                "failed"
            }
        }
        (Status::Aborted, _) => "aborted",
        (Status::Deviated, _) if !ran(&journal.steady_states.after) => "failed",
        _ => "completed",
    }
}

impl Journal {
    /// This journal as the Chaos Toolkit writes one, with this runner's
    /// record in extra keys.
    pub fn to_chaostoolkit(&self) -> Value {
        let activities = written_activities(&self.experiment);
        let entry = |run: &ActivityRun, hypothesis: bool| entry(run, &activities, hypothesis);
        let state = |h: &HypothesisRun| {
            json!({
                "steady_state_met": h.steady_state_met,
                "probes": h.probes.iter().map(|p| entry(p, true)).collect::<Vec<_>>(),
            })
        };
        json!({
            "shop-chaos-version": self.chaos_version,
            "platform": format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            "node": hostname(),
            "experiment": self.experiment,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "status": ctk_status(self),
            "deviated": self.deviated,
            "steady_states": {
                "before": self.steady_states.before.as_ref().map(state),
                "after": self.steady_states.after.as_ref().map(state),
                "during": self.steady_states.during.iter().map(state).collect::<Vec<_>>(),
            },
            "run": self.run.iter().map(|r| entry(r, false)).collect::<Vec<_>>(),
            "rollbacks": self.rollbacks.iter().map(|r| entry(r, false)).collect::<Vec<_>>(),
            "title": self.title,
            "outcome": self.status,
            "aborted": self.aborted,
            "dry_run": self.dry_run,
            "configuration": self.configuration,
            "safeguards": self.safeguards,
            "rollback_strategy": self.rollback_strategy,
            "hypothesis_strategy": self.hypothesis_strategy,
            "rollbacks_skipped": self.rollbacks_skipped,
            "notes": self.notes,
        })
    }
}

fn entry(run: &ActivityRun, activities: &Map<String, Value>, hypothesis: bool) -> Value {
    let activity = activities.get(&run.name).cloned().unwrap_or_else(
        || json!({"type": run.kind.as_str(), "name": run.name, "provider": {"type": run.provider}}),
    );
    let mut entry = json!({
        "activity": activity,
        "output": run.output,
        "status": run.status,
        "start": run.start,
        "end": run.end,
        "duration": run.duration,
        "phase": run.phase.as_str(),
        "offset": run.offset,
        "provider": run.provider,
    });
    if let Some(error) = &run.error {
        entry["exception"] = json!([format!("chaos.Error: {error}\n")]);
        entry["error"] = json!(error);
    }
    if let Some(tolerance) = &run.tolerance {
        entry["tolerance"] = json!(tolerance);
    }
    if hypothesis {
        entry["tolerance_met"] = json!(run.ok());
    }
    if let Some(attempts) = run.attempts {
        entry["attempts"] = json!(attempts);
    }
    entry
}

/// Every named activity of the experiment as written, by name.
fn written_activities(experiment: &Value) -> Map<String, Value> {
    let lists = [
        &experiment["steady-state-hypothesis"]["probes"],
        &experiment["method"],
        &experiment["rollbacks"],
        &experiment["safeguards"]["probes"],
    ];
    let mut named = Map::new();
    for item in lists.into_iter().filter_map(Value::as_array).flatten() {
        if let Some(name) = item["name"].as_str() {
            named.entry(name).or_insert_with(|| item.clone());
        }
    }
    named
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}
