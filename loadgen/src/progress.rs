//! Live counters fed by every request, the progress line drawn from them, and
//! the slowest requests with their trace ids for the summary.
//!
//! Goose keeps its own metrics on its own thread; these few atomics are the
//! cheap view the progress line needs while the run goes.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static FAILURES: AtomicU64 = AtomicU64::new(0);
static USERS: AtomicI64 = AtomicI64::new(0);
static SLOWEST: Mutex<Vec<SlowRequest>> = Mutex::new(Vec::new());

/// How many of the slowest requests the summary lists.
const SLOWEST_KEPT: usize = 10;

/// One slow request, findable in the shop's traces and logs by its trace id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowRequest {
    /// `GET /product/{slug}`.
    pub request: String,
    /// The path actually requested.
    pub path: String,
    pub status: u16,
    pub millis: f64,
    pub trace_id: String,
}

/// Zero every counter: a run (or a capacity step) starts afresh.
pub fn reset() {
    REQUESTS.store(0, Ordering::Relaxed);
    FAILURES.store(0, Ordering::Relaxed);
    USERS.store(0, Ordering::Relaxed);
    lock_slowest().clear();
}

/// Count one finished request.
pub(crate) fn record(success: bool, slow: impl FnOnce() -> SlowRequest, millis: f64) {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    if !success {
        FAILURES.fetch_add(1, Ordering::Relaxed);
    }
    let mut slowest = lock_slowest();
    let fastest_kept = slowest.last().map(|s| s.millis);
    if slowest.len() < SLOWEST_KEPT || fastest_kept.is_some_and(|kept| millis > kept) {
        slowest.push(slow());
        slowest.sort_by(|a, b| b.millis.total_cmp(&a.millis));
        slowest.truncate(SLOWEST_KEPT);
    }
}

pub(crate) fn user_started() {
    USERS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn user_stopped() {
    USERS.fetch_sub(1, Ordering::Relaxed);
}

/// The slowest requests of the run so far, slowest first.
pub fn slowest() -> Vec<SlowRequest> {
    lock_slowest().clone()
}

fn lock_slowest() -> std::sync::MutexGuard<'static, Vec<SlowRequest>> {
    // A panic while holding the lock leaves a list that is still valid.
    SLOWEST
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub failures: u64,
    pub users: i64,
}

pub fn counters() -> Counters {
    Counters {
        requests: REQUESTS.load(Ordering::Relaxed),
        failures: FAILURES.load(Ordering::Relaxed),
        users: USERS.load(Ordering::Relaxed).max(0),
    }
}

/// The progress line: elapsed time, users, requests, the rate over the last
/// interval and failures.
pub fn line(label: &str, elapsed: Duration, now: Counters, rate: f64) -> String {
    let secs = elapsed.as_secs();
    format!(
        "[{label}] {:02}:{:02} users {:>4}  requests {:>8}  {:>8.1} req/s  failed {}",
        secs / 60,
        secs % 60,
        now.users,
        now.requests,
        rate,
        now.failures
    )
}

/// Prints the progress line on stderr until dropped: redrawn in place every
/// second on a terminal, a plain line every ten seconds otherwise.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    terminal: bool,
}

impl Progress {
    pub fn start(label: impl Into<String>) -> Self {
        let label = label.into();
        let terminal = std::io::stderr().is_terminal();
        let every = if terminal {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(10)
        };
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut previous = counters();
            let mut ticker = tokio::time::interval(every);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let now = counters();
                let rate = (now.requests - previous.requests) as f64 / every.as_secs_f64();
                previous = now;
                let text = line(&label, started.elapsed(), now, rate);
                let mut err = std::io::stderr().lock();
                let _ = if terminal {
                    write!(err, "\r\x1b[2K{text}")
                } else {
                    writeln!(err, "{text}")
                };
                let _ = err.flush();
            }
        });
        Progress { task, terminal }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
        if self.terminal {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_shows_time_users_requests_rate_and_failures() {
        let now = Counters {
            requests: 1234,
            failures: 5,
            users: 8,
        };
        let text = line("smoke", Duration::from_secs(75), now, 98.76);
        assert_eq!(
            text,
            "[smoke] 01:15 users    8  requests     1234      98.8 req/s  failed 5"
        );
    }

    #[test]
    fn only_the_slowest_requests_are_kept_slowest_first() {
        reset();
        for millis in 0..25 {
            let millis = f64::from(millis);
            record(
                true,
                || SlowRequest {
                    request: "GET /".into(),
                    path: "/".into(),
                    status: 200,
                    millis,
                    trace_id: format!("{millis}"),
                },
                millis,
            );
        }
        let kept: Vec<_> = slowest().iter().map(|s| s.millis).collect();
        assert_eq!(kept, (15..25).rev().map(f64::from).collect::<Vec<_>>());
        assert_eq!(counters().requests, 25);
        reset();
    }
}
