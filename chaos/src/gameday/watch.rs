//! Watches Prometheus' alerts through the whole game day and writes every
//! state change (pending, firing, resolved) of every alert into the timeline,
//! per alert name and severity.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use fleet::prometheus::Prometheus;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::timeline::{EventKind, Timeline};

const POLL: Duration = Duration::from_millis(500);

/// `(alertname, severity)`.
type Key = (String, String);

/// Starts watching; stops when `stop` is cancelled.
pub(crate) fn spawn(
    prometheus: Arc<Prometheus>,
    timeline: Timeline,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut states: BTreeMap<Key, &'static str> = BTreeMap::new();
        loop {
            if let Ok(alerts) = prometheus.alerts().await {
                let mut now: BTreeMap<Key, &'static str> = BTreeMap::new();
                for alert in &alerts {
                    let key = (alert.name().to_owned(), alert.label("severity").to_owned());
                    let state = if alert.is_firing() {
                        "firing"
                    } else {
                        "pending"
                    };
                    let entry = now.entry(key).or_insert(state);
                    if state == "firing" {
                        *entry = "firing";
                    }
                }
                for (key, state) in &now {
                    if states.get(key) != Some(state) {
                        timeline.push(alert_event(key, state));
                    }
                }
                for (key, before) in states.iter().filter(|(k, _)| !now.contains_key(*k)) {
                    // A pending alert that never fired goes back to inactive.
                    let after = if *before == "firing" {
                        "resolved"
                    } else {
                        "inactive"
                    };
                    timeline.push(alert_event(key, after));
                }
                states = now;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

fn alert_event((alert, severity): &Key, state: &str) -> EventKind {
    EventKind::Alert {
        alert: alert.clone(),
        severity: severity.clone(),
        state: state.to_owned(),
    }
}
