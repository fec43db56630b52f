//! One Goose run: the configuration, the shopper mix, and what came back.

use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::metrics::GooseMetrics;
use goose::prelude::*;

use crate::error::{Error, Result};
use crate::progress::{self, Progress};
use crate::scenarios::{self, Pace};

/// What a finished run left behind.
#[derive(Debug)]
pub struct Outcome {
    pub metrics: GooseMetrics,
    /// A threshold failed (Goose's own judgement).
    pub thresholds_failed: bool,
    /// Stopped early by Ctrl-C (reports are still written).
    pub interrupted: bool,
}

/// Run the shopper mix under `config` (with `test_plan` unless the options
/// set the load themselves), with a progress line labelled `label`.
pub async fn execute(
    config: GooseConfiguration,
    test_plan: Option<&str>,
    pace: Pace,
    label: &str,
) -> Result<Outcome> {
    let mut attack = GooseAttack::initialize_with_config(config)?;
    if let Some(plan) = test_plan {
        attack = *attack.set_default(GooseDefault::TestPlan, plan)?;
    }
    for scenario in scenarios::all(pace)? {
        attack = attack.register_scenario(scenario);
    }
    progress::reset();
    let progress = Progress::start(label);
    let result = attack.execute().await;
    drop(progress);
    let (metrics, thresholds_failed) = match result {
        Ok(metrics) => (metrics, false),
        Err(GooseError::ThresholdsFailed { metrics, .. }) => (*metrics.0, true),
        Err(e) => return Err(e.into()),
    };
    // The killswitch stops a run for Ctrl-C and for a failed threshold (which
    // marks its rule as the one that stopped the run); loadgen pulls it for
    // nothing else.
    let interrupted =
        goose::is_killswitch_triggered() && !metrics.thresholds.iter().any(|t| t.aborted);
    Ok(Outcome {
        metrics,
        thresholds_failed,
        interrupted,
    })
}

/// Check that `host` answers HTTP at all before loading it: a load test of a
/// host that is down would only report a 100 % error rate.
pub async fn preflight(host: &str) -> Result<()> {
    let unreachable = |reason: String| Error::Unreachable {
        host: host.to_string(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    match client.get(host).send().await {
        Ok(_) => Ok(()),
        Err(e) => Err(unreachable(cause_chain(&e))),
    }
}

/// An error and its causes, `: `-separated.
pub(crate) fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A base configuration for runs this crate drives itself: no telnet
/// controller (two runs on one machine would fight over its port).
pub fn base_config(host: &str) -> GooseConfiguration {
    let mut config = GooseConfiguration::default();
    config.host = Some(host.to_string());
    config.no_telnet = true;
    config
}
