//! Progress on the terminal: each line stamped with the time since the game
//! day began, and a line every few seconds while something is awaited.

use std::{
    io::Write as _,
    time::{Duration, Instant},
};

#[derive(Debug, Clone)]
pub(crate) struct Progress {
    started: Instant,
    quiet: bool,
}

/// How often a wait reports that it is still waiting.
pub(crate) const WAIT_REPORT_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    pub(crate) fn new(quiet: bool) -> Progress {
        Progress {
            started: Instant::now(),
            quiet,
        }
    }

    pub(crate) fn line(&self, message: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        let elapsed = self.started.elapsed().as_secs();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "[{:02}:{:02}] {}",
            elapsed / 60,
            elapsed % 60,
            message.as_ref()
        );
        let _ = out.flush();
    }

    /// `waiting for X (12 s of at most 60 s)`.
    pub(crate) fn waiting(&self, what: &str, waited: Duration, bound: Duration) {
        self.line(format!(
            "  waiting for {what} ({} s of at most {} s)",
            waited.as_secs(),
            bound.as_secs()
        ));
    }
}
