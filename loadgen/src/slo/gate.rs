//! The SLO gate: objectives in, Goose thresholds out, and a verdict per
//! objective that says by how much a breached one missed.
//!
//! - a success objective over every request is `error-rate<0.1%`;
//! - a success objective over some routes is one `error-rate` rule per route;
//! - a latency objective ("99 % within 250 ms") is `p99<250ms` for each
//!   route it covers, so every page meets it on its own.
//!
//! Goose judges the rules while the run goes (stopping it at the first
//! breach) and at the end; [`Gate::judge`] turns its results back into
//! objectives. [`Gate::evaluate`] judges the same rules on metrics directly,
//! for capacity steps, optionally on the coordinated-omission-corrected times.

use goose::metrics::{GooseMetrics, GooseRequestMetricAggregate, GooseRequestMetricTimingData};
use goose::threshold::ThresholdResult;
use serde::{Deserialize, Serialize};

use super::{trim, Objective, Scope, Sli};

/// One Goose threshold and the objective it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Index into the gate's objectives.
    pub objective: usize,
    /// The rule as Goose parses it: `p99<250ms for GET /cart`.
    pub text: String,
    pub measure: Measure,
    /// The request it judges, or every request.
    pub request: Option<String>,
}

/// What a rule measures, with its limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// Failed requests in percent must stay below `limit_percent`.
    ErrorRate { limit_percent: f64 },
    /// The `percentile` (in percent) response time must stay below `limit_ms`.
    Percentile { percentile: f64, limit_ms: f64 },
}

/// The gate for a set of objectives.
#[derive(Debug, Clone)]
pub struct Gate {
    objectives: Vec<Objective>,
    rules: Vec<Rule>,
}

/// How one rule fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleVerdict {
    pub rule: String,
    /// What was observed, as a number: percent or milliseconds; `None`
    /// without samples.
    pub observed: Option<f64>,
    pub passed: bool,
    /// In words: `312 ms, 62 ms over 250 ms`.
    pub detail: String,
}

/// How one objective fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub objective: String,
    pub description: String,
    pub objective_percent: f64,
    /// The share of good events over everything the SLI counts, in percent;
    /// `None` without events.
    pub measured_percent: Option<f64>,
    pub good: u64,
    pub total: u64,
    pub held: bool,
    pub rules: Vec<RuleVerdict>,
}

impl Verdict {
    /// The error budget spent over the run, as a multiple of what the
    /// objective allows: 1.0 spends it exactly.
    pub fn budget_burn(&self) -> Option<f64> {
        let measured = self.measured_percent?;
        let allowed = 100.0 - self.objective_percent;
        (allowed > 0.0).then(|| (100.0 - measured) / allowed)
    }

    /// One paragraph: what was breached and by how much.
    pub fn explain(&self) -> String {
        let mut text = format!("SLO {} breached", self.objective);
        if let Some(measured) = self.measured_percent {
            let objective = trim(self.objective_percent);
            let good = format!("{} % good of {} events", trim(round2(measured)), self.total);
            if measured < self.objective_percent {
                text.push_str(&format!(
                    ": {good}, objective {objective} % ({} points short",
                    trim(round2(self.objective_percent - measured))
                ));
                if let Some(burn) = self.budget_burn() {
                    text.push_str(&format!(", {}× the error budget", trim(round2(burn))));
                }
                text.push(')');
            } else {
                text.push_str(&format!(": overall {good} (objective {objective} %), but"));
            }
        }
        let failed: Vec<String> = self
            .rules
            .iter()
            .filter(|r| !r.passed)
            .map(|r| format!("{} failed: {}", r.rule, r.detail))
            .collect();
        if !failed.is_empty() {
            text.push_str(if text.ends_with("but") { " " } else { "; " });
            text.push_str(&failed.join("; "));
        }
        text
    }
}

impl Gate {
    /// The rules for `objectives`, for the requests a run makes (`requests`,
    /// by Goose name): a route-scoped rule for a request the run never makes
    /// would fail for want of samples.
    pub fn new(objectives: Vec<Objective>, requests: &[String]) -> Gate {
        let mut rules = Vec::new();
        for (index, objective) in objectives.iter().enumerate() {
            let scoped: Vec<&String> = match objective.sli.scope() {
                Scope::All => Vec::new(),
                Scope::Only(keys) => requests.iter().filter(|r| keys.contains(r)).collect(),
            };
            let measure = match &objective.sli {
                Sli::Success { .. } => Measure::ErrorRate {
                    limit_percent: 100.0 - objective.objective_percent,
                },
                Sli::Latency { threshold, .. } => Measure::Percentile {
                    percentile: objective.objective_percent,
                    limit_ms: threshold.as_secs_f64() * 1000.0,
                },
            };
            let targets: Vec<Option<String>> = match objective.sli.scope() {
                Scope::All => vec![None],
                Scope::Only(_) => scoped.into_iter().cloned().map(Some).collect(),
            };
            for request in targets {
                rules.push(Rule {
                    objective: index,
                    text: rule_text(measure, request.as_deref()),
                    measure,
                    request,
                });
            }
        }
        Gate { objectives, rules }
    }

    pub fn objectives(&self) -> &[Objective] {
        &self.objectives
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The verdicts from Goose's own judgement of the rules.
    pub fn judge(&self, results: &[ThresholdResult], metrics: &GooseMetrics) -> Vec<Verdict> {
        self.verdicts(metrics, false, |rule| {
            let result = results.iter().find(|r| r.rule == rule.text);
            let observed = result.and_then(|r| r.value);
            let passed = result.is_some_and(|r| r.passed);
            (observed, passed)
        })
    }

    /// The verdicts judged here on `metrics`; with `corrected`, latency reads
    /// the coordinated-omission-corrected times where Goose kept them.
    pub fn evaluate(&self, metrics: &GooseMetrics, corrected: bool) -> Vec<Verdict> {
        self.verdicts(metrics, corrected, |rule| {
            let observed = observe(rule, metrics, corrected);
            let passed = observed.is_some_and(|value| value < limit(rule.measure));
            (observed, passed)
        })
    }

    fn verdicts(
        &self,
        metrics: &GooseMetrics,
        corrected: bool,
        mut judge: impl FnMut(&Rule) -> (Option<f64>, bool),
    ) -> Vec<Verdict> {
        self.objectives
            .iter()
            .enumerate()
            .map(|(index, objective)| {
                let rules: Vec<RuleVerdict> = self
                    .rules
                    .iter()
                    .filter(|rule| rule.objective == index)
                    .map(|rule| {
                        let (observed, passed) = judge(rule);
                        RuleVerdict {
                            rule: rule.text.clone(),
                            observed,
                            passed,
                            detail: detail(rule.measure, observed),
                        }
                    })
                    .collect();
                let (good, total) = count(objective, metrics, corrected);
                Verdict {
                    objective: objective.name.clone(),
                    description: objective.describe(),
                    objective_percent: objective.objective_percent,
                    measured_percent: (total > 0).then(|| good as f64 / total as f64 * 100.0),
                    good,
                    total,
                    held: rules.iter().all(|r| r.passed),
                    rules,
                }
            })
            .collect()
    }
}

fn rule_text(measure: Measure, request: Option<&str>) -> String {
    let head = match measure {
        Measure::ErrorRate { limit_percent } if limit_percent <= 0.0 => "error-rate<=0%".into(),
        Measure::ErrorRate { limit_percent } => format!("error-rate<{}%", trim(limit_percent)),
        Measure::Percentile {
            percentile,
            limit_ms,
        } => format!("p{}<{}ms", trim(percentile), trim(limit_ms)),
    };
    match request {
        Some(request) => format!("{head} for {request}"),
        None => head,
    }
}

fn limit(measure: Measure) -> f64 {
    match measure {
        // `<=0%` is the only rule with an inclusive limit.
        Measure::ErrorRate { limit_percent } if limit_percent <= 0.0 => f64::MIN_POSITIVE,
        Measure::ErrorRate { limit_percent } => limit_percent,
        Measure::Percentile { limit_ms, .. } => limit_ms,
    }
}

fn detail(measure: Measure, observed: Option<f64>) -> String {
    let Some(value) = observed else {
        return "no samples".into();
    };
    match measure {
        Measure::ErrorRate { limit_percent } => {
            let mut text = format!(
                "{} % failed, limit {} %",
                trim(round2(value)),
                trim(limit_percent)
            );
            if value >= limit_percent && limit_percent > 0.0 {
                text.push_str(&format!(
                    " ({}× the limit)",
                    trim(round2(value / limit_percent))
                ));
            }
            text
        }
        Measure::Percentile {
            percentile,
            limit_ms,
        } => {
            let p = trim(percentile);
            if value >= limit_ms {
                format!(
                    "p{p} {} ms, {} ms over {} ms",
                    trim(round2(value)),
                    trim(round2(value - limit_ms)),
                    trim(limit_ms)
                )
            } else {
                format!(
                    "p{p} {} ms, limit {} ms",
                    trim(round2(value)),
                    trim(limit_ms)
                )
            }
        }
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The response times of the requests whose name `keep` selects, merged;
/// with `corrected`, the coordinated-omission-corrected times where Goose
/// kept them.
pub fn merged_times(
    metrics: &GooseMetrics,
    keep: impl Fn(&str) -> bool,
    corrected: bool,
) -> GooseRequestMetricTimingData {
    let mut merged = GooseRequestMetricTimingData::default();
    for (_, aggregate) in metrics.requests.iter().filter(|(key, _)| keep(key)) {
        let from = times(aggregate, corrected);
        if from.counter == 0 {
            continue;
        }
        if merged.counter == 0 || from.minimum_time_us < merged.minimum_time_us {
            merged.minimum_time_us = from.minimum_time_us;
        }
        merged.maximum_time_us = merged.maximum_time_us.max(from.maximum_time_us);
        merged.total_time_us += from.total_time_us;
        merged.counter += from.counter;
        for (&bucket, &count) in from.times_us.iter() {
            let before = merged.times_us.get(&bucket).copied().unwrap_or(0);
            merged.times_us.insert(bucket, before + count);
        }
    }
    merged
}

fn times(
    aggregate: &GooseRequestMetricAggregate,
    corrected: bool,
) -> &GooseRequestMetricTimingData {
    match (&aggregate.coordinated_omission_data, corrected) {
        (Some(co), true) => co,
        _ => &aggregate.raw_data,
    }
}

/// What `rule` observes on `metrics`, as Goose would: percent failed, or the
/// percentile in milliseconds.
fn observe(rule: &Rule, metrics: &GooseMetrics, corrected: bool) -> Option<f64> {
    let keep = |key: &str| rule.request.as_deref().is_none_or(|r| r == key);
    match rule.measure {
        Measure::ErrorRate { .. } => {
            let (failed, total) = metrics
                .requests
                .iter()
                .filter(|(key, _)| keep(key))
                .fold((0, 0), |(f, t), (_, a)| {
                    (f + a.fail_count, t + a.fail_count + a.success_count)
                });
            (total > 0).then(|| failed as f64 / total as f64 * 100.0)
        }
        Measure::Percentile { percentile, .. } => {
            let merged = merged_times(metrics, keep, corrected);
            (merged.counter > 0)
                .then(|| merged.percentile_us((percentile / 100.0) as f32) as f64 / 1000.0)
        }
    }
}

/// Good and total events of an objective's SLI over the whole run.
fn count(objective: &Objective, metrics: &GooseMetrics, corrected: bool) -> (u64, u64) {
    let scope = objective.sli.scope();
    let requests = metrics
        .requests
        .iter()
        .filter(|(key, _)| scope.includes(key))
        .map(|(_, aggregate)| aggregate);
    match &objective.sli {
        Sli::Success { .. } => requests.fold((0, 0), |(good, total), a| {
            (
                good + a.success_count as u64,
                total + (a.success_count + a.fail_count) as u64,
            )
        }),
        Sli::Latency { threshold, .. } => {
            let limit_us = threshold.as_micros() as u64;
            requests.fold((0, 0), |(good, total), a| {
                let data = times(a, corrected);
                let fast: usize = data
                    .times_us
                    .iter()
                    .filter(|(&bucket, _)| bucket < limit_us)
                    .map(|(_, &count)| count)
                    .sum();
                (good + fast as u64, total + data.counter as u64)
            })
        }
    }
}

#[cfg(test)]
mod tests;
