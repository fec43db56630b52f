//! A run's results, as the bench writes them to JSON: the machine, the
//! settings, every case measured and the figures per backend.

use serde::{Deserialize, Serialize};

use crate::{checkout::Audit, machine::Machine, wrk::Measurement};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// What a wrk run requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Reference,
    ProductPage,
    HomePage,
    CatalogueApi,
    MetricsScrape,
    Checkout,
    /// The product page of a shop started with `SHOP_TELEMETRY=off`.
    ProductPageWithoutTelemetry,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Reference => "reference handler (actix-web, fixed body)",
            Kind::ProductPage => "product page `GET /product/{slug}`",
            Kind::HomePage => "home page `GET /`",
            Kind::CatalogueApi => "JSON catalogue `GET /api/v1/products`",
            Kind::MetricsScrape => "metrics scrape `GET /metrics` (admin port)",
            Kind::Checkout => "checkout `POST /api/v1/orders` (orders/s)",
            Kind::ProductPageWithoutTelemetry => "product page, `SHOP_TELEMETRY=off`",
        }
    }
}

/// One measured case: medians over the rounds.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Case {
    pub kind: Kind,
    pub backend: Option<Backend>,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Median over the rounds of this case's rate over the reference
    /// handler's rate in the same round.
    pub share: f64,
    /// Socket errors and non-2xx/3xx answers, over all rounds.
    pub errors: u64,
    pub rounds: Vec<Measurement>,
}

/// Figures of one backend that are not a wrk rate.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct BackendFigures {
    pub backend: Backend,
    /// Median, over several starts, from spawning the process to `/readyz`
    /// answering 200, on an already seeded database.
    pub ready_ms: f64,
    pub ready_runs_ms: Vec<f64>,
    /// Resident set size after the product-page run (the largest of the rounds).
    pub resident_mib: f64,
    /// The median of `telemetry_costs`.
    pub telemetry_cost: Option<f64>,
    /// For each short run without telemetry, 1 − (rate with telemetry /
    /// rate without), the rate with telemetry being the mean of the runs
    /// just before and just after it. Runs from before these were recorded
    /// had one such figure per round, kept only as their median.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telemetry_costs: Vec<f64>,
    pub checkout_audit: Option<Audit>,
}

/// loadgen (`loadgen flood`) and wrk against the reference handler with the
/// same connections.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct LoadgenFigures {
    pub wrk_requests_per_second: f64,
    pub loadgen_requests_per_second: f64,
    /// Median over the rounds of loadgen's rate over wrk's.
    pub share: f64,
    /// Requests per second of CPU time the generator itself used.
    pub wrk_requests_per_cpu_second: f64,
    pub loadgen_requests_per_cpu_second: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Settings {
    pub connections: u32,
    pub threads: u32,
    /// `loadgen --threads`; none in runs from before the option, which
    /// ran one thread per core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loadgen_threads: Option<u32>,
    pub duration_seconds: u64,
    pub rounds: u32,
    /// The telemetry figure's runs without telemetry per round and
    /// backend, and the length of its runs; none in runs from before they
    /// were separate, which had one pair of 10 s runs per round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry_pairs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry_run_seconds: Option<u64>,
    /// When the run began (UTC).
    pub started: String,
    /// The commit measured, `+dirty` when the shop's sources had changes.
    pub commit: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub settings: Settings,
    pub cases: Vec<Case>,
    pub backends: Vec<BackendFigures>,
    pub loadgen: Option<LoadgenFigures>,
}

impl Results {
    pub fn case(&self, kind: Kind, backend: Backend) -> Option<&Case> {
        self.cases
            .iter()
            .find(|c| c.kind == kind && c.backend == Some(backend))
    }

    pub fn backend(&self, backend: Backend) -> Option<&BackendFigures> {
        self.backends.iter().find(|b| b.backend == backend)
    }

    pub fn audit(&self, backend: Backend) -> Option<&Audit> {
        self.backend(backend)?.checkout_audit.as_ref()
    }

    pub fn telemetry_cost(&self, backend: Backend) -> Option<f64> {
        self.backend(backend)?.telemetry_cost
    }
}

/// A share with one decimal: 0.0375 → "3.8 %". A cost the noise made
/// slightly negative keeps its sign (-0.3 %), but one that rounds to zero
/// is 0.0 %, not "-0.0 %".
pub fn percent(share: f64) -> String {
    let rounded = (share * 1000.0).round() / 10.0;
    if rounded == 0.0 {
        "0.0 %".to_owned()
    } else {
        format!("{rounded:.1} %")
    }
}
