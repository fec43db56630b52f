use std::{fmt, path::PathBuf};

/// What can go wrong reading a spec or writing rules.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not YAML, or not the shape of a `prometheus/v1` spec (an unknown field, a
    /// missing one, a wrong type). The message names the field and its line.
    #[error("{origin}: not a valid SLO spec: {message}")]
    Parse { origin: String, message: String },
    /// Well-formed, but wrong: every problem found, each with where it is.
    #[error("{origin}: invalid SLO spec ({} problem{}):\n{}", problems.len(), if problems.len() == 1 { "" } else { "s" }, Problems(problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
    #[error(
        "unsupported SLO period {0:?}: Sloth's alert windows exist for 30d, 28d (4w) and 7d (1w)"
    )]
    UnsupportedPeriod(String),
    #[error("invalid duration {0:?}: use a Prometheus duration such as 5m, 1h or 2h30m")]
    InvalidDuration(String),
    #[error(
        "runbook base URL {0:?} is not an absolute URL: give one such as \
         https://github.com/you/shop/blob/main/alerts/runbooks/"
    )]
    RunbookBaseUrl(String),
    #[error("could not serialise the rules")]
    Serialize(#[source] serde_yaml::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One thing wrong with a spec: `at` is the field's path, such as
/// `slos[1].objective`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            at: at.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {problem}")?;
        }
        Ok(())
    }
}
