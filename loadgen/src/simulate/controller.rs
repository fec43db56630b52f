//! The autoscaling/v2 controller's arithmetic, as kube-controller-manager's
//! `podautoscaler` package does it for one HPA with a Pods metric:
//!
//! 1. the replica calculator: `ceil(ready × metric / target)`, no change
//!    within the tolerance, pods without a metric (not ready yet) assumed at
//!    0 of the target when scaling up and at the target when scaling down,
//!    and no change when that assumption reverses the direction;
//! 2. stabilisation: the lowest recommendation within the scale-up window and
//!    the highest within the scale-down window bound the new one;
//! 3. rate limits: each policy allows a change relative to the replicas at
//!    the start of its period (from the scale events of that period);
//!    `selectPolicy` picks the largest (`Max`) or smallest (`Min`) change, or
//!    none (`Disabled`); then `minReplicas` and `maxReplicas`.
//!
//! Time is whole seconds since the start of the simulation.

use super::behavior::{Autoscaler, PolicyKind, Rules, Select};

/// The controller's default `--horizontal-pod-autoscaler-tolerance`.
pub const TOLERANCE: f64 = 0.1;

/// What one sync sees of the pods.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The Deployment's replicas (`scale.spec.replicas`), ready or not.
    pub current: u32,
    /// Pods with a metric value, and the mean of their values.
    pub with_metric: u32,
    pub mean_metric: f64,
    /// Pods without a metric value (started, not ready yet).
    pub missing: u32,
}

/// The replicas the metric asks for, before stabilisation and rate limits
/// (`calcPlainMetricReplicas`). Values are compared in milli-units, as the
/// controller does with quantities.
pub fn metric_replicas(observation: &Observation, target: f64, tolerance: f64) -> u32 {
    let current = observation.current;
    if observation.with_metric == 0 {
        // No metric at all: the controller reports an error and keeps the scale.
        return current;
    }
    let target_milli = milli(target).max(1);
    let mean_milli = milli(observation.mean_metric);
    let ratio = mean_milli as f64 / target_milli as f64;
    if observation.missing == 0 {
        if (1.0 - ratio).abs() <= tolerance {
            return current;
        }
        return (ratio * f64::from(observation.with_metric)).ceil() as u32;
    }
    let assumed = if ratio < 1.0 { target_milli } else { 0 };
    let pods = i64::from(observation.with_metric + observation.missing);
    let total =
        mean_milli * i64::from(observation.with_metric) + assumed * i64::from(observation.missing);
    let new_ratio = (total / pods) as f64 / target_milli as f64;
    if (1.0 - new_ratio).abs() <= tolerance
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return current;
    }
    let replicas = (new_ratio * pods as f64).ceil() as u32;
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return current;
    }
    replicas
}

fn milli(value: f64) -> i64 {
    (value * 1000.0).ceil() as i64
}

/// One HPA's controller state: recommendations and scale events.
#[derive(Debug, Clone)]
pub struct Controller {
    hpa: Autoscaler,
    tolerance: f64,
    /// (time, recommendation) within the longer stabilisation window.
    recommendations: Vec<(i64, u32)>,
    /// (time, replicas added) and (time, replicas removed).
    scale_up_events: Vec<(i64, u32)>,
    scale_down_events: Vec<(i64, u32)>,
}

impl Controller {
    pub fn new(hpa: Autoscaler) -> Controller {
        Controller::with_tolerance(hpa, TOLERANCE)
    }

    pub fn with_tolerance(hpa: Autoscaler, tolerance: f64) -> Controller {
        Controller {
            hpa,
            tolerance,
            recommendations: Vec::new(),
            scale_up_events: Vec::new(),
            scale_down_events: Vec::new(),
        }
    }

    pub fn autoscaler(&self) -> &Autoscaler {
        &self.hpa
    }

    /// One sync at `now`: the replicas the Deployment is scaled to.
    pub fn sync(&mut self, now: i64, observation: &Observation) -> u32 {
        let current = observation.current;
        let desired = if current > self.hpa.max_replicas {
            self.hpa.max_replicas
        } else if current < self.hpa.min_replicas {
            self.hpa.min_replicas
        } else {
            let wanted = metric_replicas(observation, self.hpa.target_rps_per_pod, self.tolerance);
            self.normalize(now, current, wanted)
        };
        self.store_event(now, current, desired);
        desired
    }

    /// Stabilisation, then rate limits and bounds
    /// (`normalizeDesiredReplicasWithBehaviors`).
    pub fn normalize(&mut self, now: i64, current: u32, wanted: u32) -> u32 {
        if self.recommendations.is_empty() && self.hpa.scale_down.stabilization_window_seconds > 0 {
            self.recommendations.push((now, current));
        }
        let stabilized = self.stabilize(now, current, wanted);
        self.limit_rate(now, current, stabilized)
    }

    fn stabilize(&mut self, now: i64, current: u32, wanted: u32) -> u32 {
        let up_cutoff = now - i64::from(self.hpa.scale_up.stabilization_window_seconds);
        let down_cutoff = now - i64::from(self.hpa.scale_down.stabilization_window_seconds);
        let (mut up, mut down) = (wanted, wanted);
        let mut old = None;
        for (index, &(at, recommendation)) in self.recommendations.iter().enumerate() {
            if at > up_cutoff {
                up = up.min(recommendation);
            }
            if at > down_cutoff {
                down = down.max(recommendation);
            }
            if at < up_cutoff && at < down_cutoff {
                old = Some(index);
            }
        }
        match old {
            Some(index) => self.recommendations[index] = (now, wanted),
            None => self.recommendations.push((now, wanted)),
        }
        current.max(up).min(down)
    }

    fn limit_rate(&self, now: i64, current: u32, desired: u32) -> u32 {
        if desired > current {
            let limit = self.scale_up_limit(now, current).max(current);
            desired.min(self.hpa.max_replicas.min(limit))
        } else if desired < current {
            let limit = self.scale_down_limit(now, current).min(current);
            desired.max(self.hpa.min_replicas.max(limit))
        } else {
            desired
        }
    }

    /// `calculateScaleUpLimitWithScalingRules`.
    fn scale_up_limit(&self, now: i64, current: u32) -> u32 {
        let rules = &self.hpa.scale_up;
        let proposals = self
            .period_starts(now, current, rules)
            .map(|(kind, value, start)| match kind {
                PolicyKind::Pods => start + i64::from(value),
                PolicyKind::Percent => {
                    (start as f64 * (1.0 + f64::from(value) / 100.0)).ceil() as i64
                }
            });
        let limit = match rules.select_policy {
            Select::Disabled => return current,
            Select::Max => proposals.max(),
            Select::Min => proposals.min(),
        };
        limit.map_or(current, clamp)
    }

    /// `calculateScaleDownLimitWithBehaviors`.
    fn scale_down_limit(&self, now: i64, current: u32) -> u32 {
        let rules = &self.hpa.scale_down;
        let proposals = self
            .period_starts(now, current, rules)
            .map(|(kind, value, start)| match kind {
                PolicyKind::Pods => start - i64::from(value),
                // Truncated toward zero, as Go's int32 conversion does.
                PolicyKind::Percent => (start as f64 * (1.0 - f64::from(value) / 100.0)) as i64,
            });
        let limit = match rules.select_policy {
            Select::Disabled => return current,
            // The most change downwards is the lowest count.
            Select::Max => proposals.min(),
            Select::Min => proposals.max(),
        };
        limit.map_or(current, clamp)
    }

    /// Each policy with the replicas at the start of its period.
    fn period_starts<'a>(
        &'a self,
        now: i64,
        current: u32,
        rules: &'a Rules,
    ) -> impl Iterator<Item = (PolicyKind, u32, i64)> + 'a {
        rules.policies.iter().map(move |policy| {
            let cutoff = now - i64::from(policy.period_seconds);
            let within = |events: &[(i64, u32)]| -> i64 {
                events
                    .iter()
                    .filter(|(at, _)| *at > cutoff)
                    .map(|(_, change)| i64::from(*change))
                    .sum()
            };
            let start = i64::from(current) - within(&self.scale_up_events)
                + within(&self.scale_down_events);
            (policy.kind, policy.value, start)
        })
    }

    /// `storeScaleEvent`: events older than the longest policy period of
    /// their direction are dropped, as the controller reuses their slots.
    fn store_event(&mut self, now: i64, before: u32, after: u32) {
        let (events, rules, change) = match after.cmp(&before) {
            std::cmp::Ordering::Greater => (
                &mut self.scale_up_events,
                &self.hpa.scale_up,
                after - before,
            ),
            std::cmp::Ordering::Less => (
                &mut self.scale_down_events,
                &self.hpa.scale_down,
                before - after,
            ),
            std::cmp::Ordering::Equal => return,
        };
        let longest = rules
            .policies
            .iter()
            .map(|p| p.period_seconds)
            .max()
            .unwrap_or(0);
        events.retain(|(at, _)| *at >= now - i64::from(longest));
        events.push((now, change));
    }
}

fn clamp(value: i64) -> u32 {
    value.clamp(0, i64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests;
