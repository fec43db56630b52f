//! `loadgen run`: one profile against the shop, gated by the SLOs.

use std::path::PathBuf;

use goose::config::GooseConfiguration;

use crate::attack::{self, Outcome};
use crate::error::{Error, Result};
use crate::profiles::Profile;
use crate::report::{self, Summary};
use crate::shard::Shard;
use crate::slo::gate::{Gate, Verdict};
use crate::slo::source::ObjectiveSource;
use crate::{progress, routes};

/// What `run` needs besides Goose's own options.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub profile: Profile,
    pub report_dir: PathBuf,
    /// Write Goose's request log (every request, with its `traceparent`).
    pub request_log: bool,
    /// Run only this share of the users.
    pub shard: Option<Shard>,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunResult {
    pub summary: Summary,
    pub report_dir: PathBuf,
}

impl RunResult {
    pub fn passed(&self) -> bool {
        self.summary.passed
    }

    pub fn breached(&self) -> impl Iterator<Item = &Verdict> {
        self.summary.verdicts.iter().filter(|v| !v.held)
    }
}

/// Options that set users and timing: given any, the profile's plan is not
/// applied (Goose refuses a test plan beside them).
fn sets_own_load(goose: &GooseConfiguration) -> bool {
    has_test_plan(goose)
        || goose.users.is_some()
        || goose.run_time.is_some()
        || goose.iterations.is_some()
        || goose.increase_rate.is_some()
        || goose.increase_time.is_some()
}

pub async fn run(
    options: &RunOptions,
    mut goose: GooseConfiguration,
    objectives: &dyn ObjectiveSource,
) -> Result<RunResult> {
    let host = goose.host.clone().ok_or_else(|| {
        Error::Usage(
            "--host is required: the shop's base URL, such as http://127.0.0.1:8080".into(),
        )
    })?;
    let slo = objectives.objectives().map_err(|source| Error::Slo {
        origin: objectives.origin(),
        source,
    })?;
    attack::preflight(&host).await?;

    let dir = &options.report_dir;
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let mut profile_plan =
        (!sets_own_load(&goose)).then(|| options.profile.test_plan().to_string());
    if let Some(shard) = options.shard {
        profile_plan = profile_plan.map(|plan| shard.test_plan(&plan));
        goose.users = goose.users.map(|users| shard.users(users));
    }
    let mut test_plan = profile_plan
        .clone()
        .unwrap_or_else(|| "set by the Goose options given".to_string());
    if let Some(shard) = options.shard {
        test_plan.push_str(&format!(" (shard {shard} of the users)"));
    }
    for name in ["report.html", "report.json"] {
        goose.report_file.push(dir.join(name).display().to_string());
    }
    if options.request_log && goose.request_log.is_none() {
        goose.request_log = Some(dir.join("requests.json").display().to_string());
    }
    if goose.telnet_port.is_none() && goose.telnet_host.is_none() {
        goose.no_telnet = true;
    }

    let requests: Vec<String> = routes::ALL.iter().map(routes::Route::key).collect();
    let gate = Gate::new(slo, &requests);
    let gate_rules: Vec<String> = gate.rules().iter().map(|r| r.text.clone()).collect();
    goose.threshold.extend(gate_rules.iter().cloned());

    let started_at = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let Outcome {
        metrics,
        thresholds_failed,
        interrupted,
    } = attack::execute(
        goose,
        profile_plan.as_deref(),
        options.profile.pace(),
        options.profile.name(),
    )
    .await?;

    let mut verdicts = gate.judge(&metrics.thresholds, &metrics);
    if interrupted {
        forgive_missing_samples(&mut verdicts);
    }
    let other_failed_thresholds: Vec<String> = metrics
        .thresholds
        .iter()
        .filter(|t| !t.passed && !gate_rules.contains(&t.rule))
        .map(|t| format!("{}: observed {}", t.rule, t.observed))
        .collect();
    let per_request = report::request_rows(&metrics);
    let total: u64 = per_request.iter().map(|r| r.requests).sum();
    let failures: u64 = per_request.iter().map(|r| r.failures).sum();
    let passed = verdicts.iter().all(|v| v.held)
        && other_failed_thresholds.is_empty()
        && !(thresholds_failed
            && !interrupted
            && all_explained(&verdicts, &other_failed_thresholds));
    let summary = Summary {
        profile: options.profile.name().to_string(),
        host,
        test_plan,
        started_at,
        duration_seconds: metrics.duration,
        interrupted,
        requests: total,
        failures,
        requests_per_second: total as f64 / metrics.duration.max(1) as f64,
        slo_source: objectives.origin(),
        passed,
        verdicts,
        other_failed_thresholds,
        per_request,
        transactions: report::transaction_rows(&metrics),
        errors: report::error_rows(&metrics),
        slowest: progress::slowest(),
        goose_requests: metrics
            .requests
            .iter()
            .map(|(name, aggregate)| (name.clone(), aggregate.clone()))
            .collect(),
    };
    summary.write(dir)?;
    Ok(RunResult {
        summary,
        report_dir: dir.clone(),
    })
}

/// A run cut short by Ctrl-C may not have reached every route: a rule without
/// samples says nothing about the shop then, so it does not fail the run.
fn forgive_missing_samples(verdicts: &mut [Verdict]) {
    for verdict in verdicts {
        for rule in verdict.rules.iter_mut().filter(|r| r.observed.is_none()) {
            rule.passed = true;
            rule.detail = "no samples before the run was interrupted".into();
        }
        verdict.held = verdict.rules.iter().all(|r| r.passed);
    }
}

/// Every verdict held and no other threshold failed: if Goose still said a
/// threshold failed, the run fails all the same rather than pass a run Goose
/// failed.
fn all_explained(verdicts: &[Verdict], others: &[String]) -> bool {
    verdicts.iter().all(|v| v.held) && others.is_empty()
}

/// Whether `--test-plan` was given. Goose keeps the field to itself, but its
/// `Debug` shows it; a test pins this down.
fn has_test_plan(goose: &GooseConfiguration) -> bool {
    !format!("{goose:?}").contains("test_plan: None")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn a_test_plan_on_the_command_line_is_seen() {
        let without =
            GooseConfiguration::try_parse_from(["loadgen", "-H", "http://127.0.0.1:1"]).unwrap();
        assert!(!has_test_plan(&without));
        assert!(!sets_own_load(&without));
        let with =
            GooseConfiguration::try_parse_from(["loadgen", "--test-plan", "1,1s;0,0s"]).unwrap();
        assert!(has_test_plan(&with));
        let users = GooseConfiguration::try_parse_from(["loadgen", "-u", "3"]).unwrap();
        assert!(sets_own_load(&users));
    }
}
