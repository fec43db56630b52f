//! CPU stress in this process: busy threads for a while, so that a shop on
//! the same machine competes for CPU.

use std::{
    thread,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::undo::{StressHandle as Handle, UndoState};
use crate::{experiment::CpuStress, runner::Context, Result};

/// Burns `workers` threads at `load_percent` for `duration_seconds`; ends
/// early on undo or when the run is aborted.
pub(crate) async fn run(
    ctx: &Context,
    action: &str,
    spec: &CpuStress,
    cancel: &CancellationToken,
) -> Result<Value> {
    let workers = spec
        .workers
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get));
    let stop = Handle::new();
    ctx.remember(action, UndoState::Stress(stop.clone()));
    let duration = Duration::from_secs_f64(spec.duration_seconds);
    let busy = Duration::from_millis(u64::from(spec.load_percent.clamp(1, 100)));
    let started = Instant::now();
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let stop = stop.clone();
            thread::spawn(move || burn(duration, busy, &stop))
        })
        .collect();
    let waiting = tokio::task::spawn_blocking(move || {
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or(0))
            .sum::<u64>()
    });
    tokio::pin!(waiting);
    let spins = tokio::select! {
        joined = &mut waiting => joined.unwrap_or(0),
        () = cancel.cancelled() => {
            stop.stop();
            waiting.await.unwrap_or(0)
        }
    };
    Ok(json!({
        "workers": workers,
        "load_percent": spec.load_percent,
        "ran_seconds": started.elapsed().as_secs_f64(),
        "stopped_early": stop.stopped(),
        "spins": spins,
    }))
}

/// Spins for `busy` out of every 100 ms until `duration` is over or `stop`.
fn burn(duration: Duration, busy: Duration, stop: &Handle) -> u64 {
    let started = Instant::now();
    let mut spins = 0u64;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    while started.elapsed() < duration && !stop.stopped() {
        let slice = Instant::now();
        while slice.elapsed() < busy {
            // Work the optimiser cannot remove.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            spins += 1;
        }
        std::hint::black_box(x);
        let idle = Duration::from_millis(100).saturating_sub(busy);
        if !idle.is_zero() {
            thread::sleep(idle);
        }
    }
    spins
}
