//! The async runtime loadgen's users run on, sized by `--threads`.
//!
//! One thread runs every user on a single-threaded runtime: no task moves
//! between threads and no thread wakes another, which on a machine shared
//! with the shop gives more requests per second than two threads do
//! (`loadgen flood` against the reference handler on 2 cores: about 83,000
//! against 64,000 req/s). More threads are for a load generator with cores
//! of its own. Without `--threads`, there is one per core.

use std::num::NonZeroUsize;

use tokio::runtime::{Builder, Runtime};

/// One thread: a current-thread runtime; more: that many workers; none:
/// tokio's default of one worker per core.
pub fn build(threads: Option<NonZeroUsize>) -> std::io::Result<Runtime> {
    let mut builder = match threads.map(NonZeroUsize::get) {
        Some(1) => Builder::new_current_thread(),
        Some(threads) => {
            let mut builder = Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
        None => Builder::new_multi_thread(),
    };
    builder.enable_all().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threads(n: usize) -> Option<NonZeroUsize> {
        NonZeroUsize::new(n)
    }

    #[test]
    fn one_thread_is_a_single_threaded_runtime() {
        let runtime = build(threads(1)).unwrap();
        assert_eq!(runtime.metrics().num_workers(), 1);
        let here = std::thread::current().id();
        assert_eq!(
            runtime.block_on(async { std::thread::current().id() }),
            here
        );
    }

    #[test]
    fn more_threads_are_that_many_workers() {
        assert_eq!(build(threads(3)).unwrap().metrics().num_workers(), 3);
    }
}
