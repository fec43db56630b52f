//! Running one activity: retries, the time limit, the tolerance verdict.

use std::time::{Instant, SystemTime};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{pause, Context, Run};
use crate::{
    actions,
    experiment::{Activity, Provider, ToleranceCheck},
    journal::{self, ActivityRun, Phase, RunStatus},
    probes, Error, Result,
};

impl Run {
    pub(super) async fn activity(
        &self,
        activity: &Activity,
        phase: Phase,
        cancel: &CancellationToken,
    ) -> ActivityRun {
        let run = self.activity_quietly(activity, phase, cancel).await;
        self.notify(&run);
        run
    }

    /// Runs an activity, again and again while its `retry` allows and its
    /// tolerance is not met.
    pub(super) async fn activity_quietly(
        &self,
        activity: &Activity,
        phase: Phase,
        cancel: &CancellationToken,
    ) -> ActivityRun {
        let attempts = activity.retry.as_ref().map_or(1, |r| r.attempts.max(1));
        let interval = activity.retry.as_ref().map_or(0.0, |r| r.interval);
        let mut tried = 1;
        loop {
            let mut run = self.attempt(activity, phase, cancel).await;
            if run.ok() || tried >= attempts || cancel.is_cancelled() {
                if attempts > 1 {
                    run.attempts = Some(tried);
                }
                return run;
            }
            tried += 1;
            pause(interval, cancel).await;
        }
    }

    async fn attempt(
        &self,
        activity: &Activity,
        phase: Phase,
        cancel: &CancellationToken,
    ) -> ActivityRun {
        let start = SystemTime::now();
        let offset = self.clock.elapsed().as_secs_f64();
        let began = Instant::now();
        let limit = activity.timeout();
        let result = tokio::select! {
            result = tokio::time::timeout(limit, dispatch(&self.ctx, activity, cancel)) => {
                result.unwrap_or_else(|_| Err(Error::Api(format!("timed out after {}s", limit.as_secs_f64()))))
            }
            () = cancel.cancelled() => Err(Error::Api("aborted".into())),
        };
        let (status, output, error) = match result {
            Ok(output) => (RunStatus::Succeeded, Some(output), None),
            Err(e) => (RunStatus::Failed, None, Some(e.to_string())),
        };
        let tolerance = activity.tolerance.as_ref().map(|t| match &output {
            Some(output) => t.check(output),
            None => ToleranceCheck {
                met: false,
                detail: format!("no output: {}", error.as_deref().unwrap_or_default()),
            },
        });
        ActivityRun {
            name: activity.name.clone(),
            kind: activity.kind,
            provider: activity.provider.type_name().to_owned(),
            phase,
            status,
            background: activity.background,
            start: journal::timestamp(start),
            end: journal::timestamp(SystemTime::now()),
            offset,
            duration: began.elapsed().as_secs_f64(),
            output,
            error,
            tolerance,
            attempts: None,
        }
    }
}

async fn dispatch(ctx: &Context, activity: &Activity, cancel: &CancellationToken) -> Result<Value> {
    match &activity.provider {
        Provider::Http(http) => probes::http(ctx, http).await,
        Provider::HttpLoad(load) => probes::http_load(ctx, load).await,
        Provider::Prometheus(query) => probes::prometheus(ctx, query).await,
        Provider::SloBurnRate(slo) => probes::slo_burn_rate(ctx, slo).await,
        action => actions::act(ctx, &activity.name, action, cancel).await,
    }
}
