//! The SLO spec: Sloth's `prometheus/v1` format, read strictly.
//!
//! ```no_run
//! let spec = alerts::spec::SloSpec::load("alerts/slo.yaml")?;
//! for slo in &spec.slos {
//!     println!("{} {}% {}", slo.name, slo.objective, slo.error_ratio_query("5m"));
//! }
//! # Ok::<(), alerts::Error>(())
//! ```

use std::{collections::BTreeMap, path::Path, sync::LazyLock};

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

mod indicator;
mod validate;

pub use indicator::{Indicator, RouteFilter};

/// The `version` Sloth gives this format.
pub const VERSION: &str = "prometheus/v1";

/// The shipped spec, `alerts/slo.yaml`, as compiled into this crate.
pub const SHIPPED: &str = include_str!("../slo.yaml");

/// Where the shipped spec lives, relative to the workspace root.
pub const SHIPPED_PATH: &str = "alerts/slo.yaml";

/// A service and its SLOs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    pub version: String,
    pub service: String,
    /// Prometheus labels on every rule of every SLO.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub slos: Vec<Slo>,
}

/// One objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    pub name: String,
    /// A percentage: `99.9` means 99.9 % of events are good.
    pub objective: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Prometheus labels on every rule of this SLO.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    pub sli: Sli,
    #[serde(default)]
    pub alerting: Alerting,
}

/// The indicator: one of `events` or `raw` (Sloth's `plugin` is not supported).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sli {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<SliRaw>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<SliEvents>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<SliPlugin>,
}

/// An error ratio (0 to 1) computed by the query itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SliRaw {
    pub error_ratio_query: String,
}

/// Bad events over all events; both queries use `{{.window}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SliEvents {
    pub error_query: String,
    pub total_query: String,
}

/// Sloth's SLI plugins; parsed so that `alerts check` can say they are not supported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SliPlugin {
    pub id: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// The burn-rate alerts of one SLO.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerting {
    /// The alert name, shared by the page and the ticket alert.
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub page_alert: Alert,
    #[serde(default)]
    pub ticket_alert: Alert,
}

/// Settings of the page or the ticket alert.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    #[serde(default)]
    pub disable: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl SloSpec {
    /// Reads, parses and validates a spec file.
    pub fn load(path: impl AsRef<Path>) -> Result<SloSpec> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        SloSpec::parse(&text, &path.display().to_string())
    }

    /// Parses and validates a spec; `origin` names it in errors.
    pub fn parse(yaml: &str, origin: &str) -> Result<SloSpec> {
        let spec: SloSpec = serde_yaml::from_str(yaml).map_err(|e| Error::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        let problems = spec.problems();
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(Error::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// The shipped `alerts/slo.yaml`, compiled in (a test keeps it valid).
    pub fn shipped() -> SloSpec {
        SloSpec::parse(SHIPPED, SHIPPED_PATH).expect("the shipped alerts/slo.yaml is valid")
    }

    /// The SLO called `name`.
    pub fn slo(&self, name: &str) -> Option<&Slo> {
        self.slos.iter().find(|slo| slo.name == name)
    }

    /// Everything wrong with this spec; empty when it is valid.
    pub fn problems(&self) -> Vec<crate::Problem> {
        validate::problems(self)
    }
}

impl Slo {
    /// Sloth's SLO id, `<service>-<name>`: the `sloth_id` label.
    pub fn id(&self, service: &str) -> String {
        format!("{service}-{}", self.name)
    }

    /// The objective as a ratio: 99.9 → 0.999.
    pub fn objective_ratio(&self) -> f64 {
        self.objective / 100.0
    }

    /// The share of events allowed to be bad: 99.9 → 0.001.
    pub fn error_budget_ratio(&self) -> f64 {
        (100.0 - self.objective) / 100.0
    }

    /// The PromQL of the error ratio (0 to 1) over `window`, such as `5m`,
    /// exactly as the `slo:sli_error:ratio_rate<window>` rules record it.
    pub fn error_ratio_query(&self, window: &str) -> String {
        self.sli.error_ratio_query(window)
    }

    /// What the SLI measures, read from its queries.
    pub fn indicator(&self) -> Indicator {
        indicator::of(self)
    }
}

impl Sli {
    /// The error ratio query over `window` (Sloth's template:
    /// `(error)\n/\n(total)\n` for events, `(raw)` for raw).
    pub fn error_ratio_query(&self, window: &str) -> String {
        match (&self.events, &self.raw) {
            (Some(events), _) => format!(
                "({})\n/\n({})\n",
                events.error_query(window),
                events.total_query(window)
            ),
            (None, Some(raw)) => format!("({})", render_window(&raw.error_ratio_query, window)),
            (None, None) => String::new(),
        }
    }
}

impl SliEvents {
    /// The bad events query over `window`.
    pub fn error_query(&self, window: &str) -> String {
        render_window(&self.error_query, window)
    }

    /// The total events query over `window`.
    pub fn total_query(&self, window: &str) -> String {
        render_window(&self.total_query, window)
    }
}

static WINDOW: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{-?\s*\.window\s*-?\}\}").expect("valid regex"));

/// Replaces the `{{.window}}` template variable with `window`; trailing
/// whitespace of a block scalar is dropped.
pub fn render_window(query: &str, window: &str) -> String {
    WINDOW.replace_all(query.trim_end(), window).into_owned()
}

/// Whether a query uses the `{{.window}}` template variable.
pub fn uses_window(query: &str) -> bool {
    WINDOW.is_match(query)
}
