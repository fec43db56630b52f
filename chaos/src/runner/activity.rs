//! Running one activity: retries, the time limit, the tolerance verdict.

use std::time::{Instant, SystemTime};

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{pause, Context, Run};
use crate::{
    actions,
    experiment::{Activity, Provider, Tolerance, ToleranceCheck},
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
        let tolerance = match (&activity.tolerance, &output) {
            (None, _) => None,
            (Some(Tolerance::Probe(probe)), Some(output)) => {
                Some(self.probe_tolerance(probe, output, cancel).await)
            }
            (Some(t), Some(output)) => Some(t.check(output)),
            (Some(_), None) => Some(ToleranceCheck {
                met: false,
                detail: format!("no output: {}", error.as_deref().unwrap_or_default()),
            }),
        };
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

impl Run {
    /// A `probe` tolerance: the probe runs with the output as its `value`
    /// argument, and is met when it succeeds (a process exits 0, an HTTP call
    /// answers below 400, one of this runner's probes is within its own
    /// tolerance).
    async fn probe_tolerance(
        &self,
        probe: &Activity,
        output: &Value,
        cancel: &CancellationToken,
    ) -> ToleranceCheck {
        let mut probe = probe.clone();
        let arguments = match &mut probe.provider {
            Provider::Http(http) => Some(&mut http.arguments),
            Provider::Process(process) => Some(&mut process.arguments),
            _ => None,
        };
        match arguments {
            Some(arguments @ None) => *arguments = Some(json!({ "value": output })),
            Some(Some(Value::Object(map))) => {
                map.insert("value".into(), output.clone());
            }
            Some(Some(Value::Array(list))) => list.push(Value::String(output.to_string())),
            _ => {}
        }
        let limit = probe.timeout();
        let result = tokio::select! {
            result = tokio::time::timeout(limit, dispatch(&self.ctx, &probe, cancel)) => {
                result.unwrap_or_else(|_| Err(Error::Api("timed out".into())))
            }
            () = cancel.cancelled() => Err(Error::Api("aborted".into())),
        };
        let (met, detail) = match result {
            Err(e) => (false, e.to_string()),
            Ok(out) => match &probe.provider {
                Provider::Process(_) => (out["status"] == 0, format!("exit {}", out["status"])),
                Provider::Http(_) => (
                    out["status"].as_u64().is_some_and(|s| s < 400),
                    format!("HTTP {}", out["status"]),
                ),
                _ => match &probe.tolerance {
                    Some(t) => {
                        let check = t.check(&out);
                        (check.met, check.detail)
                    }
                    None => (true, "ran".into()),
                },
            },
        };
        ToleranceCheck {
            met,
            detail: format!("probe `{}`: {detail}", probe.name),
        }
    }
}

async fn dispatch(ctx: &Context, activity: &Activity, cancel: &CancellationToken) -> Result<Value> {
    match &activity.provider {
        Provider::Http(http) => probes::http(ctx, http).await,
        Provider::Process(process) => actions::process::run(process, activity.timeout()).await,
        Provider::HttpLoad(load) => probes::http_load(ctx, load).await,
        Provider::Prometheus(query) => probes::prometheus(ctx, query).await,
        Provider::SloBurnRate(slo) => probes::slo_burn_rate(ctx, slo).await,
        action => actions::act(ctx, &activity.name, action, cancel).await,
    }
}
