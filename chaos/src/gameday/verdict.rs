//! Each expectation of a step, judged from the timeline and the
//! experiment's journal: did the alert fire within its bound after the fault
//! started, and resolve within its bound after the fault ended?

use serde::Serialize;

use super::{
    notifications::{PAGER, TICKETS},
    orders::Audit,
    scenario::{ExpectedAlert, Outcome, QuietAlert, Step},
    timeline::{Event, EventKind},
};
use crate::journal::Journal;

/// One expectation's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub step: String,
    pub expectation: String,
    /// The bound, such as `fires within 30 s`.
    pub bound: String,
    /// What was measured, such as `fired after 7.2 s`.
    pub measured: String,
    pub passed: bool,
    /// For an alert's rows: when Alertmanager delivered it (firing), such as
    /// `8.1 s after the fault's start`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notified: Option<String>,
    /// For an alert's rows: when its resolved notice was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_notice: Option<String>,
}

/// The times that frame a step's fault, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaultWindow {
    pub start: f64,
    pub end: f64,
}

/// How long an alert took, relative to the fault.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AlertTimes {
    /// Seconds from the fault's start to firing.
    pub detect: Option<f64>,
    /// Seconds from the fault's end to resolved.
    pub recover: Option<f64>,
}

fn matches(expected: &ExpectedAlert, alert: &str, severity: &str) -> bool {
    alert == expected.alert
        && expected
            .severity
            .as_deref()
            .is_none_or(|wanted| wanted == severity)
}

/// When `expected` first fired after the fault started, and then resolved.
pub fn alert_times(expected: &ExpectedAlert, fault: FaultWindow, events: &[Event]) -> AlertTimes {
    let state_at = |state: &str, after: f64| {
        events.iter().find_map(|e| match &e.what {
            EventKind::Alert {
                alert,
                severity,
                state: s,
            } if e.at >= after && s == state && matches(expected, alert, severity) => Some(e.at),
            _ => None,
        })
    };
    let fired = state_at("firing", fault.start);
    let resolved = fired.and_then(|fired| state_at("resolved", fired));
    AlertTimes {
        detect: fired.map(|at| at - fault.start),
        recover: resolved.map(|at| (at - fault.end).max(0.0)),
    }
}

/// When Alertmanager delivered `expected`: the first firing notification
/// after the fault started (seconds after it, and the receiver), and the
/// first resolved notice after that (seconds after the fault's end).
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeTimes {
    pub firing: Option<(f64, String)>,
    pub resolved: Option<(f64, String)>,
}

pub fn notice_times(expected: &ExpectedAlert, fault: FaultWindow, events: &[Event]) -> NoticeTimes {
    let notice = |wanted: &str, after: f64| {
        events.iter().find_map(|e| match &e.what {
            EventKind::Notification {
                receiver,
                alert,
                severity,
                status,
            } if e.at >= after && status == wanted && matches(expected, alert, severity) => {
                Some((e.at, receiver.clone()))
            }
            _ => None,
        })
    };
    let firing = notice("firing", fault.start);
    let resolved = firing.as_ref().and_then(|(at, _)| notice("resolved", *at));
    NoticeTimes {
        firing: firing.map(|(at, to)| (at - fault.start, to)),
        resolved: resolved.map(|(at, to)| ((at - fault.end).max(0.0), to)),
    }
}

/// The receiver that stands for the person a severity reaches.
fn person_for(severity: &str) -> Option<&'static str> {
    match severity {
        "page" => Some(PAGER),
        "ticket" => Some(TICKETS),
        _ => None,
    }
}

/// Verdicts for one step.
pub(crate) fn judge(
    step: &Step,
    fault: Option<FaultWindow>,
    journal: &Journal,
    events: &[Event],
    audit: Option<&Audit>,
) -> Vec<Verdict> {
    let verdict = |expectation: String, bound: String, measured: String, passed: bool| Verdict {
        step: step.name.clone(),
        expectation,
        bound,
        measured,
        passed,
        notified: None,
        resolved_notice: None,
    };
    let mut verdicts = Vec::new();
    if let Some(reason) = &journal.aborted {
        verdicts.push(verdict(
            "the experiment runs to its end".into(),
            "not aborted".into(),
            format!("aborted: {reason}"),
            false,
        ));
    }
    for expected in &step.alerts {
        let Some(fault) = fault else {
            verdicts.push(verdict(
                format!("{} fires", expected.describe()),
                format!("within {} s of the fault", expected.fire_within),
                "no fault was injected".into(),
                false,
            ));
            continue;
        };
        let times = alert_times(expected, fault, events);
        let notices = notice_times(expected, fault, events);
        verdicts.push(Verdict {
            notified: Some(
                notices
                    .firing
                    .as_ref()
                    .map_or("not delivered".into(), |(s, receiver)| {
                        format!("{s:.1} s after the fault's start, to {receiver}")
                    }),
            ),
            ..verdict(
                format!("{} fires", expected.describe()),
                format!("within {} s of the fault's start", expected.fire_within),
                times
                    .detect
                    .map_or("never fired".into(), |s| format!("fired after {s:.1} s")),
                times.detect.is_some_and(|s| s <= expected.fire_within),
            )
        });
        verdicts.push(Verdict {
            resolved_notice: Some(
                notices
                    .resolved
                    .as_ref()
                    .map_or("not delivered".into(), |(s, receiver)| {
                        format!("{s:.1} s after the fault's end, to {receiver}")
                    }),
            ),
            ..verdict(
                format!("{} resolves", expected.describe()),
                format!("within {} s of the fault's end", expected.resolve_within),
                match (times.detect, times.recover) {
                    (None, _) => "never fired".into(),
                    (Some(_), None) => "never resolved".into(),
                    (Some(_), Some(s)) => format!("resolved after {s:.1} s"),
                },
                times.recover.is_some_and(|s| s <= expected.resolve_within),
            )
        });
        // A page that fires but reaches no pager woke nobody up.
        if let Some(receiver) = expected.severity.as_deref().and_then(person_for) {
            let delivered = notices.firing.as_ref().filter(|(_, to)| to == receiver);
            verdicts.push(verdict(
                format!("{} reaches {receiver}", expected.describe()),
                "a firing notification delivered".into(),
                match (delivered, times.detect) {
                    (Some((s, _)), _) => format!("delivered {s:.1} s after the fault's start"),
                    (None, Some(s)) => format!(
                        "fired after {s:.1} s but no notification reached {receiver}{}",
                        notices
                            .firing
                            .as_ref()
                            .map_or(String::new(), |(_, to)| format!(" (it went to {to})"))
                    ),
                    (None, None) => "never fired, so never delivered".into(),
                },
                delivered.is_some(),
            ));
        }
    }
    for name in &step.probes_pass {
        let run = journal.run.iter().find(|r| &r.name == name);
        verdicts.push(verdict(
            format!("probe `{name}` passes"),
            "within tolerance".into(),
            match run {
                None => "did not run".into(),
                Some(run) if run.ok() => "within tolerance".into(),
                Some(run) => run
                    .error
                    .clone()
                    .or_else(|| run.tolerance.as_ref().map(|t| t.detail.clone()))
                    .unwrap_or_else(|| "out of tolerance".into()),
            },
            run.is_some_and(|r| r.ok()),
        ));
    }
    if let Some(outcome) = step.outcome {
        let held = journal.aborted.is_none() && !journal.deviated;
        verdicts.push(verdict(
            "the steady state after the method".into(),
            match outcome {
                Outcome::Held => "held".into(),
                Outcome::Deviated => "deviated".into(),
            },
            if held { "held" } else { "deviated" }.into(),
            held == (outcome == Outcome::Held),
        ));
    }
    if step.no_lost_orders {
        let (measured, passed) = match audit {
            None => ("not audited".to_owned(), false),
            Some(a) if a.acknowledged == 0 => (
                format!("no order was acknowledged ({} attempts failed)", a.failed),
                false,
            ),
            Some(a) => (
                format!(
                    "{} of {} acknowledged orders found afterwards ({} attempts refused during the fault)",
                    a.acknowledged - a.lost.len(),
                    a.acknowledged,
                    a.failed
                ),
                a.lost.is_empty(),
            ),
        };
        verdicts.push(verdict(
            "no acknowledged order is lost".into(),
            "0 lost".into(),
            measured,
            passed,
        ));
    }
    verdicts
}

/// Whether `quiet` stayed quiet between `from` and `to` (Unix seconds):
/// never firing; `why` says what kept it quiet or made it fire.
pub(crate) fn stays_quiet(
    step: &Step,
    quiet: &QuietAlert,
    events: &[Event],
    (from, to): (f64, f64),
    why: String,
) -> Verdict {
    let fired = events.iter().find_map(|e| match &e.what {
        EventKind::Alert {
            alert,
            severity,
            state,
        } if e.at >= from
            && e.at <= to
            && state == "firing"
            && *alert == quiet.alert
            && quiet.severity.as_deref().is_none_or(|s| s == severity) =>
        {
            Some(e.at - from)
        }
        _ => None,
    });
    Verdict {
        step: step.name.clone(),
        expectation: format!("{} stays quiet", quiet.describe()),
        bound: "never fires during the step".into(),
        measured: match fired {
            None => format!("never fired: {why}"),
            Some(after) => format!("fired {after:.1} s into the step: {why}"),
        },
        passed: fired.is_none(),
        notified: None,
        resolved_notice: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(at: f64, state: &str, severity: &str) -> Event {
        Event {
            at,
            what: EventKind::Alert {
                alert: "ShopAvailabilityBudgetBurn".into(),
                severity: severity.into(),
                state: state.into(),
            },
        }
    }

    fn expected(severity: Option<&str>) -> ExpectedAlert {
        ExpectedAlert {
            alert: "ShopAvailabilityBudgetBurn".into(),
            severity: severity.map(str::to_owned),
            fire_within: 30.0,
            resolve_within: 60.0,
        }
    }

    #[test]
    fn detection_counts_from_the_fault_start_and_recovery_from_its_end() {
        let fault = FaultWindow {
            start: 100.0,
            end: 140.0,
        };
        let events = [
            alert(90.0, "resolved", "page"),
            alert(103.0, "pending", "page"),
            alert(107.5, "firing", "page"),
            alert(171.0, "resolved", "page"),
        ];
        let times = alert_times(&expected(Some("page")), fault, &events);
        assert_eq!(times.detect, Some(7.5));
        assert_eq!(times.recover, Some(31.0));
    }

    #[test]
    fn an_alert_of_another_severity_does_not_count() {
        let fault = FaultWindow {
            start: 100.0,
            end: 140.0,
        };
        let events = [alert(105.0, "firing", "ticket")];
        let times = alert_times(&expected(Some("page")), fault, &events);
        assert_eq!(times.detect, None);
        assert_eq!(
            alert_times(&expected(None), fault, &events).detect,
            Some(5.0)
        );
    }

    #[test]
    fn a_firing_before_the_fault_is_not_a_detection() {
        let fault = FaultWindow {
            start: 100.0,
            end: 140.0,
        };
        let events = [
            alert(95.0, "firing", "page"),
            alert(120.0, "resolved", "page"),
        ];
        assert_eq!(alert_times(&expected(None), fault, &events).detect, None);
    }
}
