//! Carts expire: a periodic task deletes carts idle for longer than
//! `SHOP_CART_TTL_HOURS`, in bounded batches so that no sweep holds locks
//! for long.

use std::{fmt, str::FromStr, time::Duration};

use crate::storage::{Database, Result};

/// How long a cart may sit idle before it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartTtl(Duration);

impl CartTtl {
    pub fn from_hours(hours: u32) -> Self {
        CartTtl(Duration::from_secs(u64::from(hours) * 3600))
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

impl Default for CartTtl {
    fn default() -> Self {
        CartTtl::from_hours(72)
    }
}

impl FromStr for CartTtl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().parse::<u32>() {
            Ok(hours) if hours > 0 => Ok(CartTtl::from_hours(hours)),
            _ => Err(format!(
                "SHOP_CART_TTL_HOURS: expected a whole number of hours above 0, got `{s}`"
            )),
        }
    }
}

impl fmt::Display for CartTtl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs() / 3600)
    }
}

/// Carts deleted per statement.
pub const BATCH: i64 = 500;
/// How often the sweep runs: often enough that carts go within minutes of
/// their TTL, rarely enough to cost nothing.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Deletes every cart idle for longer than `ttl` at `now` (Unix seconds), in
/// batches of `batch`; returns how many carts went.
pub async fn sweep(db: &Database, ttl: CartTtl, now: i64, batch: i64) -> Result<u64> {
    let cutoff = now - i64::try_from(ttl.duration().as_secs()).unwrap_or(i64::MAX);
    let mut deleted = 0;
    loop {
        let gone = db.delete_idle_carts(cutoff, batch).await?;
        deleted += gone;
        if gone < u64::try_from(batch).unwrap_or(0) {
            return Ok(deleted);
        }
    }
}

/// Sweeps now and every [`SWEEP_EVERY`] until the returned task is aborted.
/// Every replica sweeps; a cart deleted twice is deleted once.
pub fn spawn(db: Database, ttl: CartTtl) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match sweep(&db, ttl, unix_now(), BATCH).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "deleted idle carts"),
                Err(e) => {
                    tracing::warn!(error = %e, "deleting idle carts failed; trying again later")
                }
            }
        }
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
