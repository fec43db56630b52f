//! `loadgen flood`: every user sends one GET as fast as it can, with no think
//! time and no checks of the answer. It measures loadgen itself (the Goose
//! engine, without its books of requests, and the users' HTTP client the
//! scenarios use), not the shop: `bench/run.sh` runs it against a trivial
//! handler beside wrk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::prelude::*;

use crate::attack::base_config;
use crate::error::Result;
use crate::scenarios::common;

/// What a flood asks for.
#[derive(Debug, Clone)]
pub struct FloodOptions {
    pub host: String,
    pub path: String,
    pub users: usize,
    pub run_time: Duration,
}

/// What a flood reached.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodResult {
    pub requests: u64,
    pub failures: u64,
    /// From the first request sent to the last answer read.
    pub seconds: f64,
    pub requests_per_second: f64,
}

impl FloodResult {
    /// One line of JSON, what `loadgen flood` prints.
    pub fn json(&self) -> String {
        format!(
            "{{\"requests\":{},\"failures\":{},\"seconds\":{:.3},\"requests_per_second\":{:.1}}}",
            self.requests, self.failures, self.seconds, self.requests_per_second
        )
    }
}

/// Requests counted by the users themselves, timed from the first request
/// sent to the last answer read, so Goose's start-up and ramp do not count.
struct Tally {
    epoch: Instant,
    requests: AtomicU64,
    failures: AtomicU64,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
}

impl Tally {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

pub async fn flood(options: &FloodOptions) -> Result<FloodResult> {
    let tally = Arc::new(Tally {
        epoch: Instant::now(),
        requests: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        first_ns: AtomicU64::new(u64::MAX),
        last_ns: AtomicU64::new(0),
    });
    let get = {
        let tally = tally.clone();
        let path: Arc<str> = Arc::from(options.path.as_str());
        Transaction::new(Arc::new(move |user: &mut GooseUser| {
            let (tally, path) = (tally.clone(), path.clone());
            Box::pin(async move {
                tally.first_ns.fetch_min(tally.now_ns(), Ordering::Relaxed);
                let builder = common::request_builder(user, reqwest::Method::GET, &path)?;
                let request = GooseRequest::builder()
                    .path(&*path)
                    .set_request_builder(builder)
                    .build();
                let goose = user.request(request).await?;
                tally.requests.fetch_add(1, Ordering::Relaxed);
                if !goose.request.success {
                    tally.failures.fetch_add(1, Ordering::Relaxed);
                }
                tally.last_ns.fetch_max(tally.now_ns(), Ordering::Relaxed);
                Ok(())
            })
        }))
    };
    let start_user = Transaction::new(Arc::new(|user: &mut GooseUser| {
        Box::pin(common::start_user(user))
    }));

    let mut config = base_config(&options.host);
    config.users = Some(options.users);
    // All users within about a tenth of a second.
    config.increase_rate = Some((options.users * 10).to_string());
    config.run_time = Some(options.run_time.as_secs().max(1).to_string());
    config.no_print_metrics = true;
    // The result is the users' own tally: Goose's books of requests,
    // transactions and scenarios (kept per request, and sent to its
    // aggregating task) would add nothing to it.
    config.no_metrics = true;
    config.no_error_summary = true;
    config.quiet = 1;
    GooseAttack::initialize_with_config(config)?
        .register_scenario(
            scenario!("flood")
                .register_transaction(start_user.set_on_start())
                .register_transaction(get),
        )
        .execute()
        .await?;

    let requests = tally.requests.load(Ordering::Relaxed);
    let first = tally.first_ns.load(Ordering::Relaxed);
    let last = tally.last_ns.load(Ordering::Relaxed);
    let seconds = last.saturating_sub(first) as f64 / 1e9;
    Ok(FloodResult {
        requests,
        failures: tally.failures.load(Ordering::Relaxed),
        seconds,
        requests_per_second: if seconds > 0.0 {
            requests as f64 / seconds
        } else {
            0.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_line_is_json() {
        let result = FloodResult {
            requests: 1000,
            failures: 2,
            seconds: 0.5,
            requests_per_second: 2000.0,
        };
        let parsed: serde_json::Value = serde_json::from_str(&result.json()).unwrap();
        assert_eq!(parsed["requests"], 1000);
        assert_eq!(parsed["requests_per_second"], 2000.0);
    }
}
