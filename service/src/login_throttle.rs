//! Login throttling, independent of the per-client rate limit (which the
//! cluster switches off): after [`MAX_FAILURES`] failed logins for one
//! account or from one client within [`WINDOW`], further attempts are
//! answered 429 with `Retry-After` until the oldest failure leaves the window.
//!
//! Failures are counted per replica, in memory: with N replicas a guesser
//! gets at most N × 10 tries per window, still far too few to matter against
//! argon2-hashed passwords of the registration rules.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Failed logins allowed per account and per client within [`WINDOW`].
pub const MAX_FAILURES: usize = 10;
/// How long a failed login counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys tracked at most, so that a flood of made-up accounts cannot grow
/// memory without bound; past it, the stalest keys are forgotten first.
const MAX_KEYS: usize = 100_000;

/// Where the throttle reads the time; tests pass one they can move forward.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The monotonic system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Which limit refused a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottledBy {
    Account,
    Client,
}

impl ThrottledBy {
    pub const ALL: [ThrottledBy; 2] = [ThrottledBy::Account, ThrottledBy::Client];

    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottledBy::Account => "account",
            ThrottledBy::Client => "client",
        }
    }
}

/// A refused attempt: which limit, and when the next attempt may come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub by: ThrottledBy,
    pub retry_after: Duration,
}

/// Recent failed logins by account and by client.
pub struct LoginThrottle {
    clock: Arc<dyn Clock>,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Client(String),
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::with_clock(Arc::new(SystemClock))
    }
}

impl LoginThrottle {
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        LoginThrottle {
            clock,
            failures: Mutex::default(),
        }
    }

    /// Whether an attempt for `account` from `client` may be checked now.
    pub fn check(&self, account: &str, client: &str) -> Result<(), Throttled> {
        let now = self.clock.now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (key, by) in keys(account, client) {
            let Some(times) = failures.get_mut(&key) else {
                continue;
            };
            forget_old(times, now);
            if times.len() >= MAX_FAILURES {
                let oldest = times[times.len() - MAX_FAILURES];
                let retry_after = (oldest + WINDOW).saturating_duration_since(now);
                return Err(Throttled { by, retry_after });
            }
        }
        Ok(())
    }

    /// Counts a failed attempt against both the account and the client.
    pub fn record_failure(&self, account: &str, client: &str) {
        let now = self.clock.now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
            if failures.len() >= MAX_KEYS {
                failures.clear();
            }
        }
        for (key, _) in keys(account, client) {
            let times = failures.entry(key).or_default();
            forget_old(times, now);
            times.push_back(now);
            if times.len() > MAX_FAILURES {
                times.pop_front();
            }
        }
    }

    /// A successful login clears the account's failures (not the client's:
    /// one right password must not reset a guesser's count for others).
    pub fn record_success(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&Key::Account(account.trim().to_ascii_lowercase()));
    }
}

fn keys(account: &str, client: &str) -> [(Key, ThrottledBy); 2] {
    [
        (
            Key::Account(account.trim().to_ascii_lowercase()),
            ThrottledBy::Account,
        ),
        (Key::Client(client.to_owned()), ThrottledBy::Client),
    ]
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}
