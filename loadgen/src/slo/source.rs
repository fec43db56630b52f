//! Where the objectives come from: `alerts/slo.yaml`, read by the `alerts`
//! crate, the same file the alert rules are generated from.

use std::path::PathBuf;

use alerts::spec::{SloSpec, SHIPPED_PATH};

use super::Objective;

/// Something that yields the shop's objectives.
pub trait ObjectiveSource {
    /// The objectives, or why they could not be read.
    fn objectives(&self) -> anyhow::Result<Vec<Objective>>;
    /// Where they came from, for reports.
    fn origin(&self) -> String;
}

/// An SLO spec in Sloth's `prometheus/v1` format: a file, or the shipped
/// `alerts/slo.yaml` compiled into the `alerts` crate.
#[derive(Debug, Clone, Default)]
pub struct SloFile {
    pub path: Option<PathBuf>,
}

impl SloFile {
    pub fn new(path: Option<PathBuf>) -> Self {
        SloFile { path }
    }

    fn spec(&self) -> anyhow::Result<SloSpec> {
        Ok(match &self.path {
            Some(path) => SloSpec::load(path)?,
            None => SloSpec::shipped(),
        })
    }
}

impl ObjectiveSource for SloFile {
    fn objectives(&self) -> anyhow::Result<Vec<Objective>> {
        let spec = self.spec()?;
        let mut objectives = Vec::new();
        for slo in &spec.slos {
            match Objective::from_slo(slo) {
                Some(objective) => objectives.push(objective),
                None => tracing::warn!(
                    slo = %slo.name,
                    "the SLI's queries have a shape loadgen cannot judge from the client; skipped"
                ),
            }
        }
        anyhow::ensure!(
            !objectives.is_empty(),
            "none of the {} SLOs can be judged from the client",
            spec.slos.len()
        );
        Ok(objectives)
    }

    fn origin(&self) -> String {
        match &self.path {
            Some(path) => path.display().to_string(),
            None => format!("{SHIPPED_PATH} (as built into loadgen)"),
        }
    }
}
