//! The journal of a run: every activity with its start, end, outcome and
//! output. [`Journal::to_chaostoolkit`] writes it in the Chaos Toolkit's
//! `journal.json` shape, which the CLI writes.

use std::{collections::BTreeMap, fmt, time::SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

mod chaostoolkit;

use crate::experiment::{ActivityKind, HypothesisStrategy, RollbackStrategy, ToleranceCheck};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub chaos_version: String,
    pub title: String,
    /// The experiment as written, before substitution.
    pub experiment: Value,
    /// The configuration after substitution; secrets shown as `***`.
    pub configuration: BTreeMap<String, String>,
    pub status: Status,
    /// Whether the hypothesis (or a method check) did not hold.
    pub deviated: bool,
    /// Why the run was aborted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
    pub dry_run: bool,
    pub start: String,
    pub end: String,
    /// Seconds.
    pub duration: f64,
    pub steady_states: SteadyStates,
    /// The method's activities, in the order they ended.
    pub run: Vec<ActivityRun>,
    pub rollbacks: Vec<ActivityRun>,
    pub safeguards: SafeguardLog,
    #[serde(default)]
    pub rollback_strategy: RollbackStrategy,
    #[serde(default)]
    pub hypothesis_strategy: HypothesisStrategy,
    /// Why the rollbacks did not run, when the strategy skipped them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollbacks_skipped: Option<String>,
    /// What the experiment holds that was ignored (`controls`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How a run ended; the CLI's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The hypothesis held after the method: exit 0.
    Completed,
    /// It did not: exit 1.
    Deviated,
    /// Invalid, interrupted, a safeguard breached, an action failed, or the
    /// hypothesis did not hold before the method: exit 2.
    Aborted,
}

impl Status {
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Completed => 0,
            Status::Deviated => 1,
            Status::Aborted => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Deviated => "deviated",
            Status::Aborted => "aborted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SteadyStates {
    pub before: Option<HypothesisRun>,
    pub after: Option<HypothesisRun>,
    /// Checks during the method (`during-method-only`, `continuously`).
    #[serde(default)]
    pub during: Vec<HypothesisRun>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HypothesisRun {
    pub steady_state_met: bool,
    pub probes: Vec<ActivityRun>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SafeguardLog {
    /// Polls made.
    pub checks: u64,
    /// Probe runs out of tolerance (the first one aborts the run).
    pub breaches: Vec<ActivityRun>,
}

/// Where in the run an activity ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    HypothesisBefore,
    HypothesisDuring,
    Method,
    HypothesisAfter,
    Rollback,
    Safeguard,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::HypothesisBefore => "hypothesis-before",
            Phase::HypothesisDuring => "hypothesis-during",
            Phase::Method => "method",
            Phase::HypothesisAfter => "hypothesis-after",
            Phase::Rollback => "rollback",
            Phase::Safeguard => "safeguard",
        }
    }
}

/// Whether the activity itself ran; a probe's verdict is in `tolerance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivityRun {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ActivityKind,
    pub provider: String,
    pub phase: Phase,
    pub status: RunStatus,
    pub background: bool,
    pub start: String,
    pub end: String,
    /// Seconds from the start of the run to the start of the activity.
    pub offset: f64,
    /// Seconds.
    pub duration: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<ToleranceCheck>,
    /// Tries made, for a probe with `retry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

impl ActivityRun {
    /// Ran, and within tolerance if it has one.
    pub fn ok(&self) -> bool {
        self.status == RunStatus::Succeeded && self.tolerance.as_ref().is_none_or(|t| t.met)
    }

    /// One line of the timeline.
    pub fn timeline_line(&self) -> String {
        let outcome = match (self.status, &self.tolerance) {
            (RunStatus::Skipped, _) => "skipped",
            (RunStatus::Failed, _) => "FAILED",
            (RunStatus::Succeeded, Some(t)) if !t.met => "OUT OF TOLERANCE",
            (RunStatus::Succeeded, _) => "ok",
        };
        let detail = match (&self.error, &self.tolerance, &self.output) {
            (Some(error), _, _) => error.clone(),
            (None, Some(t), _) => t.detail.clone(),
            (None, None, Some(output)) => abbreviate(&output.to_string()),
            _ => String::new(),
        };
        format!(
            "{:>8} {:>7}  {:<17} {:<6} {} ({}){}  {}  {}",
            format!("+{:.2}s", self.offset),
            format!("{:.2}s", self.duration),
            self.phase.as_str(),
            self.kind.as_str(),
            self.name,
            self.provider,
            match (self.background, self.attempts) {
                (true, _) => " [background]".to_owned(),
                (false, Some(n)) if n > 1 => format!(" [try {n}]"),
                _ => String::new(),
            },
            outcome,
            detail
        )
    }
}

impl Journal {
    /// The run as a readable timeline.
    pub fn timeline(&self) -> String {
        let mut runs: Vec<&ActivityRun> = Vec::new();
        for hypothesis in [&self.steady_states.before, &self.steady_states.after]
            .into_iter()
            .flatten()
            .chain(&self.steady_states.during)
        {
            runs.extend(&hypothesis.probes);
        }
        runs.extend(&self.run);
        runs.extend(&self.rollbacks);
        runs.extend(&self.safeguards.breaches);
        runs.sort_by(|a, b| a.offset.total_cmp(&b.offset));
        let mut text = format!("experiment: {}\nstarted {}\n", self.title, self.start);
        for run in runs {
            text.push_str(&run.timeline_line());
            text.push('\n');
        }
        text.push_str(&self.summary());
        text.push('\n');
        text
    }

    /// The closing line: status, reason, safeguard polls, duration.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{}{} after {:.2}s",
            if self.dry_run { "dry run: " } else { "" },
            self.status,
            self.duration
        );
        if let Some(reason) = &self.aborted {
            line.push_str(&format!(": {reason}"));
        }
        if self.safeguards.checks > 0 {
            let (checks, breaches) = (self.safeguards.checks, self.safeguards.breaches.len());
            line.push_str(&format!(
                " (safeguards polled {checks} time{}, {breaches} breach{})",
                if checks == 1 { "" } else { "s" },
                if breaches == 1 { "" } else { "es" }
            ));
        }
        match &self.rollbacks_skipped {
            Some(reason) => line.push_str(&format!("; rollbacks not run: {reason}")),
            None => {
                let rollbacks_ok = self.rollbacks.iter().filter(|r| r.ok()).count();
                line.push_str(&format!(
                    "; rollbacks: {rollbacks_ok}/{} ok",
                    self.rollbacks.len()
                ));
            }
        }
        line
    }
}

/// RFC 3339 with milliseconds.
pub(crate) fn timestamp(at: SystemTime) -> String {
    OffsetDateTime::from(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "unknown".into())
}

pub(crate) fn redact(configuration: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    configuration
        .iter()
        .map(|(k, v)| {
            let lower = k.to_lowercase();
            let secret = ["token", "password", "secret", "key"]
                .iter()
                .any(|s| lower.contains(s));
            let shown = if secret && !v.is_empty() {
                "***".to_owned()
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect()
}

fn abbreviate(text: &str) -> String {
    const MAX: usize = 160;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}
