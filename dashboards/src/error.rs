use std::path::PathBuf;

/// What can go wrong generating or rendering dashboards.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("serialising a dashboard to JSON")]
    Json(#[from] serde_json::Error),
    #[error("serialising a provisioning file to YAML")]
    Yaml(#[from] serde_yaml::Error),
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("request to Prometheus failed")]
    Http(#[from] reqwest::Error),
    #[error("Prometheus refused `{query}`: {message}")]
    Prometheus { query: String, message: String },
    #[error("query `{query}` uses the undefined variable ${variable}")]
    UnknownVariable { query: String, variable: String },
    #[error("drawing {path}: {message}")]
    Draw { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
