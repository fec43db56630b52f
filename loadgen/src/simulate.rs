//! `loadgen hpa --simulate PROFILE`: the committed HPA replayed against a
//! demand curve, second by second, to see whether it scales in time.
//!
//! Each second, ready pods share the demand evenly (the Service balances
//! across ready endpoints only); a replica carries at most the capacity
//! measured for one pod (`capacity.requests_per_second` of `capacity.json`,
//! the highest rate at which every SLO held). Every [`SYNC_PERIOD`] seconds
//! the [`controller`] sees each ready pod's own request rate averaged over
//! the metric window (the adapter's `rate(...[2m])`) since it became ready;
//! pods still starting, or ready for less than two scrapes, have no metric. A scale-up creates pods that are ready `--pod-startup` later;
//! a scale-down removes pods not yet ready first, then the newest.
//!
//! The predicted SLO verdict: every request above the ready capacity of its
//! second is a bad event (past capacity the shop answers late or not at
//! all), for every objective of `alerts/slo.yaml`. An objective holds when
//! bad events stay within its error budget over the simulated period (for
//! 99.9 %, 0.1 % of the requests), judged over the run as loadgen's gate
//! judges a load test, not over the SLO's 30 days. The run breaches when any
//! objective does.

pub mod behavior;
pub mod chart;
pub mod controller;
pub mod demand;

use serde::Serialize;

use behavior::Autoscaler;
use controller::{Controller, Observation};
use demand::Demand;

/// The controller's default `--horizontal-pod-autoscaler-sync-period`.
pub const SYNC_PERIOD: usize = 15;

/// What the pods are like.
#[derive(Debug, Clone, PartialEq)]
pub struct Pods {
    /// Requests per second one ready replica carries with every SLO held.
    pub capacity_rps: f64,
    /// Seconds from a pod's creation until it is ready.
    pub startup_seconds: usize,
    /// Seconds the per-pod rate is averaged over.
    pub metric_window_seconds: usize,
}

/// One objective, as the simulation judges it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judged {
    pub objective: String,
    pub objective_percent: f64,
    /// Bad events over all events, in percent.
    pub bad_percent: f64,
    /// Bad events as a multiple of the budget: above 1 breaches.
    pub budget_spent: f64,
    pub held: bool,
}

/// One sync of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    pub second: usize,
    pub demand_rps: f64,
    pub replicas: u32,
    pub ready: u32,
    pub ready_capacity_rps: f64,
    /// The metric the controller saw: requests per second per ready pod.
    pub metric_rps_per_pod: f64,
    /// Share of the strictest objective's budget spent so far.
    pub budget_spent: f64,
}

/// The whole simulation: settings, outcome, and the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Simulation {
    pub profile: String,
    pub seconds: usize,
    pub peak_rps: f64,
    pub capacity_rps_per_replica: f64,
    pub target_rps_per_pod: f64,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub sync_period_seconds: usize,
    pub pod_startup_seconds: usize,
    pub metric_window_seconds: usize,
    pub rule: &'static str,
    pub requests: f64,
    pub bad_requests: f64,
    /// Seconds in which demand was above the ready capacity.
    pub overloaded_seconds: usize,
    pub highest_replicas: u32,
    pub verdicts: Vec<Judged>,
    pub held: bool,
    pub timeline: Vec<Tick>,
    /// Per second, for the chart: demand, ready capacity, replicas, ready.
    #[serde(skip)]
    pub per_second: Vec<(f64, f64, u32, u32)>,
}

/// The verdict rule in one line, for the report.
pub const RULE: &str = "requests above the ready capacity of their second are bad events; an objective holds while they stay within its error budget over the simulated period";

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulateError {
    #[error("the profile's peak of {peak} req/s is below one replica's capacity of {capacity} req/s: there is nothing to scale; give a higher --peak-rps")]
    PeakBelowOneReplica { peak: String, capacity: String },
    #[error("the capacity per replica must be above 0 req/s, not {0}")]
    Capacity(f64),
    #[error("the demand profile is empty")]
    Empty,
}

/// Replay `hpa` against `demand` and judge `objectives` (name, percent).
pub fn simulate(
    hpa: &Autoscaler,
    pods: &Pods,
    demand: &Demand,
    objectives: &[(String, f64)],
) -> Result<Simulation, SimulateError> {
    if !(pods.capacity_rps > 0.0 && pods.capacity_rps.is_finite()) {
        return Err(SimulateError::Capacity(pods.capacity_rps));
    }
    let first = *demand.per_second.first().ok_or(SimulateError::Empty)?;
    let peak = demand.peak();
    if peak < pods.capacity_rps {
        return Err(SimulateError::PeakBelowOneReplica {
            peak: crate::slo::trim(peak),
            capacity: crate::slo::trim(pods.capacity_rps),
        });
    }
    let mut controller = Controller::new(hpa.clone());
    // The run starts settled: as many replicas as the first second's demand
    // asks for at the target, all ready.
    let settled = (first / hpa.target_rps_per_pod).ceil() as u32;
    let mut ready_at: Vec<usize> =
        vec![0; settled.clamp(hpa.min_replicas, hpa.max_replicas) as usize];
    // cumulative[s]: the requests one ready pod received before second s.
    let mut cumulative: Vec<f64> = vec![0.0];
    let total: f64 = demand.per_second.iter().sum();
    let strictest = objectives
        .iter()
        .map(|(_, percent)| (100.0 - percent) / 100.0)
        .fold(f64::INFINITY, f64::min);
    let mut bad_so_far = 0.0;
    let mut overloaded = 0;
    let mut timeline = Vec::new();
    let mut per_second = Vec::with_capacity(demand.seconds());
    let mut metric = 0.0;
    for (second, &rps) in demand.per_second.iter().enumerate() {
        let synced = second % SYNC_PERIOD == 0;
        if synced {
            let observation = observe(&ready_at, &cumulative, second, pods, rps);
            metric = observation.mean_metric;
            let desired = controller.sync(second as i64, &observation) as usize;
            // Newest last: removing from the end takes pods still starting first.
            ready_at.resize(desired, second + pods.startup_seconds);
        }
        let ready = ready_at.iter().filter(|&&at| at <= second).count() as u32;
        let capacity = f64::from(ready) * pods.capacity_rps;
        let share = if ready > 0 {
            rps / f64::from(ready)
        } else {
            0.0
        };
        cumulative.push(cumulative[second] + share);
        let bad = (rps - capacity).max(0.0);
        if bad > 0.0 {
            overloaded += 1;
        }
        bad_so_far += bad;
        per_second.push((rps, capacity, ready_at.len() as u32, ready));
        if synced {
            timeline.push(Tick {
                second,
                demand_rps: round2(rps),
                replicas: ready_at.len() as u32,
                ready,
                ready_capacity_rps: round2(capacity),
                metric_rps_per_pod: round2(metric),
                budget_spent: spent(bad_so_far, total, strictest),
            });
        }
    }
    let verdicts: Vec<Judged> = objectives
        .iter()
        .map(|(name, percent)| {
            let budget = (100.0 - percent) / 100.0;
            let spent = spent(bad_so_far, total, budget);
            Judged {
                objective: name.clone(),
                objective_percent: *percent,
                bad_percent: round4(if total > 0.0 {
                    bad_so_far / total * 100.0
                } else {
                    0.0
                }),
                budget_spent: spent,
                held: spent <= 1.0,
            }
        })
        .collect();
    Ok(Simulation {
        profile: demand.name.clone(),
        seconds: demand.seconds(),
        peak_rps: round2(peak),
        capacity_rps_per_replica: pods.capacity_rps,
        target_rps_per_pod: hpa.target_rps_per_pod,
        min_replicas: hpa.min_replicas,
        max_replicas: hpa.max_replicas,
        sync_period_seconds: SYNC_PERIOD,
        pod_startup_seconds: pods.startup_seconds,
        metric_window_seconds: pods.metric_window_seconds,
        rule: RULE,
        requests: total.round(),
        bad_requests: bad_so_far.round(),
        overloaded_seconds: overloaded,
        highest_replicas: per_second.iter().map(|s| s.2).max().unwrap_or(0),
        held: verdicts.iter().all(|v| v.held),
        verdicts,
        timeline,
        per_second,
    })
}

/// What the controller sees at `now`: each pod's own request rate over the
/// metric window, counted from when it became ready; a pod ready for less
/// than [`FIRST_RATE_AFTER`] has no rate yet. At the very start, before any
/// history, the pods report the first second's share.
fn observe(
    ready_at: &[usize],
    cumulative: &[f64],
    now: usize,
    pods: &Pods,
    rps: f64,
) -> Observation {
    let window = pods.metric_window_seconds.max(1);
    let mut rates = Vec::new();
    for &at in ready_at {
        if now == 0 && at == 0 {
            rates.push(rps / ready_at.len().max(1) as f64);
            continue;
        }
        if at > now || now - at < FIRST_RATE_AFTER.min(window) {
            continue;
        }
        let start = at.max(now.saturating_sub(window));
        rates.push((cumulative[now] - cumulative[start]) / (now - start) as f64);
    }
    let with_metric = rates.len() as u32;
    Observation {
        current: ready_at.len() as u32,
        with_metric,
        mean_metric: if rates.is_empty() {
            0.0
        } else {
            rates.iter().sum::<f64>() / rates.len() as f64
        },
        missing: ready_at.len() as u32 - with_metric,
    }
}

/// Seconds a pod must have been ready before its rate exists: two scrapes
/// at kube-prometheus-stack's default 30 s interval span 30 s.
pub const FIRST_RATE_AFTER: usize = 30;

/// Bad events as a multiple of a budget of `share` of `total`.
fn spent(bad: f64, total: f64, share: f64) -> f64 {
    if bad <= 0.0 {
        0.0
    } else if total <= 0.0 || share <= 0.0 {
        f64::INFINITY
    } else {
        round4(bad / (total * share))
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests;
