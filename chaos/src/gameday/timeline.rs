//! What happened during a game day, in order, with wall-clock times: steps,
//! faults, alert state changes, shop restarts. Shared by every task.

use std::{
    sync::{Arc, Mutex},
    time::SystemTime,
};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Unix seconds.
    pub at: f64,
    pub what: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventKind {
    StepStarted {
        step: String,
    },
    FaultStarted {
        step: String,
    },
    FaultEnded {
        step: String,
    },
    StepEnded {
        step: String,
    },
    /// An alert changed state: `pending`, `firing` or `resolved`.
    Alert {
        alert: String,
        severity: String,
        state: String,
    },
    Note {
        text: String,
    },
    /// Alertmanager delivered a notification for `alert` to `receiver`:
    /// `firing`, or `resolved` (the resolved notice).
    Notification {
        receiver: String,
        alert: String,
        severity: String,
        status: String,
    },
}

/// The game day's shared log of events.
#[derive(Debug, Clone, Default)]
pub struct Timeline(Arc<Mutex<Vec<Event>>>);

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Timeline {
    /// Records an event that happens now; returns its time.
    pub fn push(&self, what: EventKind) -> f64 {
        let at = unix_now();
        self.push_at(at, what);
        at
    }

    /// Records an event that happened at `at` (Unix seconds).
    pub fn push_at(&self, at: f64, what: EventKind) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Event { at, what });
    }

    pub fn note(&self, text: impl Into<String>) {
        self.push(EventKind::Note { text: text.into() });
    }

    /// Every event so far, in time order.
    pub fn events(&self) -> Vec<Event> {
        let mut events = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        events.sort_by(|a, b| a.at.total_cmp(&b.at));
        events
    }
}
