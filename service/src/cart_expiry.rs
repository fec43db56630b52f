//! Carts expire: a periodic task deletes carts idle for longer than
//! `SHOP_CART_TTL_HOURS`, in bounded batches so that no sweep holds locks
//! for long.

use std::time::Duration;

use crate::{
    configuration::CartTtl,
    storage::{Database, Result},
};

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
