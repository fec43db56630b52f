//! `loadgen merge DIR...`: the `summary.json` of several loadgen pods (an
//! Indexed Job, each pod with 1/N of the users; Goose has no distributed
//! mode) added up into one summary, judged again by the same SLO gate on
//! the summed per-request aggregates (response-time buckets included), so
//! that the verdict is the one a single loadgen sending all of the load
//! would give.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use goose::metrics::{GooseMetrics, GooseRequestMetricAggregate, GooseRequestMetricTimingData};

use crate::error::{Error, Result};
use crate::report::{self, ErrorRow, Summary, TransactionRow};
use crate::routes;
use crate::slo::gate::Gate;
use crate::slo::Objective;

/// How many slow requests the merged summary keeps.
const SLOWEST_KEPT: usize = 10;

/// `summary.json` from `path`: a report directory or the file itself.
pub fn read(path: &Path) -> Result<Summary> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|source| Error::Read {
        path: file.clone(),
        source,
    })?;
    let summary: Summary = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{} is not a summary written by `loadgen run`: {e}",
            file.display()
        ))
    })?;
    if summary.goose_requests.is_empty() && summary.requests > 0 {
        return Err(Error::Usage(format!(
            "{} has no goose_requests (written by an older loadgen): it cannot be judged again",
            file.display()
        )));
    }
    Ok(summary)
}

/// The summaries in `dirs`, in order. A directory without a summary.json
/// stands for its subdirectories that have one (`/reports` holding
/// `shard-0`, `shard-1`, ... of an Indexed Job).
pub fn read_all(dirs: &[PathBuf]) -> Result<Vec<Summary>> {
    let mut summaries = Vec::new();
    for dir in dirs {
        if !dir.is_dir() || dir.join("summary.json").exists() {
            summaries.push(read(dir)?);
            continue;
        }
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
            path: dir.clone(),
            source,
        })?;
        let mut parts: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.join("summary.json").is_file())
            .collect();
        if parts.is_empty() {
            return Err(Error::Usage(format!(
                "{} has no summary.json, nor any subdirectory with one",
                dir.display()
            )));
        }
        parts.sort();
        for part in parts {
            summaries.push(read(&part)?);
        }
    }
    Ok(summaries)
}

/// One summary for all of `parts`, judged by `objectives`.
pub fn merge(parts: &[Summary], objectives: Vec<Objective>) -> Result<Summary> {
    let first = parts
        .first()
        .ok_or_else(|| Error::Usage("give at least one report directory".into()))?;
    let mut requests: BTreeMap<String, GooseRequestMetricAggregate> = BTreeMap::new();
    for part in parts {
        for (name, aggregate) in &part.goose_requests {
            match requests.get_mut(name) {
                Some(sum) => add(sum, aggregate),
                None => {
                    requests.insert(name.clone(), aggregate.clone());
                }
            }
        }
    }
    let duration = parts.iter().map(|p| p.duration_seconds).max().unwrap_or(0);
    let mut metrics = GooseMetrics::default();
    metrics.duration = duration;
    metrics.requests = requests
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<HashMap<_, _>>();
    // The rules `loadgen run` gives Goose: every route of the mix.
    let keys: Vec<String> = routes::ALL.iter().map(routes::Route::key).collect();
    let verdicts = Gate::new(objectives, &keys).evaluate(&metrics, false);
    let other_failed_thresholds: Vec<String> = parts
        .iter()
        .flat_map(|p| p.other_failed_thresholds.iter().cloned())
        .collect();
    let per_request = report::request_rows(&metrics);
    let total: u64 = per_request.iter().map(|r| r.requests).sum();
    let failures: u64 = per_request.iter().map(|r| r.failures).sum();
    let mut profiles: Vec<&str> = parts.iter().map(|p| p.profile.as_str()).collect();
    profiles.dedup();
    let mut slowest: Vec<_> = parts
        .iter()
        .flat_map(|p| p.slowest.iter().cloned())
        .collect();
    slowest.sort_by(|a, b| b.millis.total_cmp(&a.millis));
    slowest.truncate(SLOWEST_KEPT);
    Ok(Summary {
        profile: profiles.join("+"),
        host: first.host.clone(),
        test_plan: format!(
            "{} (merged from {} loadgen runs)",
            first.test_plan,
            parts.len()
        ),
        started_at: parts
            .iter()
            .map(|p| p.started_at.clone())
            .min()
            .unwrap_or_default(),
        duration_seconds: duration,
        interrupted: parts.iter().any(|p| p.interrupted),
        requests: total,
        failures,
        requests_per_second: total as f64 / duration.max(1) as f64,
        slo_source: first.slo_source.clone(),
        passed: verdicts.iter().all(|v| v.held) && other_failed_thresholds.is_empty(),
        verdicts,
        other_failed_thresholds,
        per_request,
        transactions: transactions(parts),
        errors: errors(parts),
        slowest,
        goose_requests: requests,
    })
}

/// Add `other` into `sum`: counts, status codes and response-time buckets.
fn add(sum: &mut GooseRequestMetricAggregate, other: &GooseRequestMetricAggregate) {
    sum.success_count += other.success_count;
    sum.fail_count += other.fail_count;
    for (code, count) in &other.status_code_counts {
        *sum.status_code_counts.entry(*code).or_insert(0) += count;
    }
    add_times(&mut sum.raw_data, &other.raw_data);
    match (
        &mut sum.coordinated_omission_data,
        &other.coordinated_omission_data,
    ) {
        (Some(sum), Some(other)) => add_times(sum, other),
        (none @ None, Some(other)) => *none = Some(other.clone()),
        _ => {}
    }
}

fn add_times(sum: &mut GooseRequestMetricTimingData, other: &GooseRequestMetricTimingData) {
    if other.counter == 0 {
        return;
    }
    if sum.counter == 0 || other.minimum_time_us < sum.minimum_time_us {
        sum.minimum_time_us = other.minimum_time_us;
    }
    sum.maximum_time_us = sum.maximum_time_us.max(other.maximum_time_us);
    sum.total_time_us += other.total_time_us;
    sum.counter += other.counter;
    for (&bucket, &count) in other.times_us.iter() {
        let before = sum.times_us.get(&bucket).copied().unwrap_or(0);
        sum.times_us.insert(bucket, before + count);
    }
}

fn transactions(parts: &[Summary]) -> Vec<TransactionRow> {
    let mut rows: Vec<TransactionRow> = Vec::new();
    for row in parts.iter().flat_map(|p| &p.transactions) {
        match rows
            .iter_mut()
            .find(|r| r.scenario == row.scenario && r.name == row.name)
        {
            Some(sum) => {
                sum.runs += row.runs;
                sum.failures += row.failures;
            }
            None => rows.push(row.clone()),
        }
    }
    rows
}

fn errors(parts: &[Summary]) -> Vec<ErrorRow> {
    let mut rows: Vec<ErrorRow> = Vec::new();
    for row in parts.iter().flat_map(|p| &p.errors) {
        match rows
            .iter_mut()
            .find(|r| r.request == row.request && r.error == row.error)
        {
            Some(sum) => sum.occurrences += row.occurrences,
            None => rows.push(row.clone()),
        }
    }
    rows.sort_by_key(|row| std::cmp::Reverse(row.occurrences));
    rows
}
