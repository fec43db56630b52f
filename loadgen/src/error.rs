use std::path::PathBuf;

/// Why a command could not do its job (as opposed to an SLO breach, which is
/// a result).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong or missing options.
    #[error("{0}")]
    Usage(String),
    /// The target did not answer at all.
    #[error("cannot reach {host}: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("could not read the SLOs from {origin}")]
    Slo {
        origin: String,
        #[source]
        source: anyhow::Error,
    },
    #[error("could not write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid capacity file", path.display())]
    CapacityFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("Goose refused the load test: {}", describe_goose(.0))]
    Goose(goose::GooseError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<goose::GooseError> for Error {
    fn from(error: goose::GooseError) -> Self {
        Error::Goose(error)
    }
}

fn describe_goose(error: &goose::GooseError) -> String {
    use goose::GooseError as G;
    match error {
        G::InvalidOption {
            option,
            value,
            detail,
        } => format!("{option} {value:?}: {detail}"),
        G::InvalidHost { host, detail, .. } => format!("host {host:?}: {detail}"),
        G::NoScenarios { detail } => detail.clone(),
        G::Io(e) => e.to_string(),
        G::Reqwest(e) => e.to_string(),
        other => format!("{other:?}"),
    }
}

/// Process exit codes.
pub mod exit {
    /// Every SLO held.
    pub const OK: u8 = 0;
    /// An SLO (or a threshold given on the command line) was breached.
    pub const BREACH: u8 = 1;
    /// Usage error, unreachable target, or any other failure to run.
    pub const ERROR: u8 = 2;
}
