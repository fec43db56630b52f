//! The game-day report: verdicts, a timeline per step with times relative
//! to the fault, the load generator's summary and charts; written as
//! `report.md`, `report.html` and `report.json`.

pub mod charts;
mod document;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Serialize;

use self::{charts::ChartFile, document::Block};
use super::{
    load::LoadSummary,
    timeline::{Event, EventKind},
    verdict::{FaultWindow, Verdict},
};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub scenario: String,
    pub backend: String,
    /// Shop replicas (1: a single process; more: a fleet behind HAProxy).
    pub replicas: usize,
    pub time_scale: u32,
    /// Unix seconds.
    pub started: f64,
    pub ended: f64,
    pub interrupted: bool,
    pub steps: Vec<StepReport>,
    pub verdicts: Vec<Verdict>,
    pub load: Option<LoadSummary>,
    pub charts: Vec<ChartFile>,
    pub timeline: Vec<Event>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub name: String,
    pub experiment: String,
    pub fault: Option<FaultWindow>,
    pub started: f64,
    pub ended: f64,
    /// Why the step did not run on this backend.
    pub skipped: Option<String>,
    /// The experiment's journal, relative to the report directory.
    pub journal: Option<String>,
}

impl Report {
    /// Every expectation met, and the game day ran to its end.
    pub fn passed(&self) -> bool {
        !self.interrupted && self.verdicts.iter().all(|v| v.passed)
    }

    pub fn failed(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|v| !v.passed)
    }

    /// Writes the three files into `dir`; returns the Markdown one's path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let blocks = self.blocks();
        let files = [
            ("report.md", document::markdown(&blocks)),
            ("report.html", document::html(&self.title, &blocks)),
            (
                "report.json",
                serde_json::to_string_pretty(self).context("serialising the report")?,
            ),
        ];
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(dir.join("report.md"))
    }

    fn blocks(&self) -> Vec<Block> {
        let met = self.verdicts.iter().filter(|v| v.passed).count();
        let mut blocks = vec![
            Block::Heading(1, format!("Game day: {}", self.title)),
            Block::Paragraph(format!(
                "**{}**: {met} of {} expectations met{}. {} on {}; scenario `{}`; every \
                 alert-rule window and `for:` divided by {} (a 5-minute window lasted {} s). \
                 Started {}, lasted {:.0} s.",
                if self.passed() { "PASSED" } else { "FAILED" },
                self.verdicts.len(),
                if self.interrupted {
                    " (interrupted before the end)"
                } else {
                    ""
                },
                match self.replicas {
                    1 => "Shop".to_owned(),
                    n => format!("{n} shop replicas behind HAProxy"),
                },
                self.backend,
                self.scenario,
                self.time_scale,
                300 / self.time_scale.max(1),
                rfc3339(self.started),
                self.ended - self.started,
            )),
            Block::Heading(2, "Expectations".into()),
            Block::Table {
                header: [
                    "Step",
                    "Expectation",
                    "Bound",
                    "Measured",
                    "Notified at",
                    "Resolved notice at",
                    "Verdict",
                ]
                .map(String::from)
                .to_vec(),
                rows: self
                    .verdicts
                    .iter()
                    .map(|v| {
                        vec![
                            v.step.clone(),
                            v.expectation.clone(),
                            v.bound.clone(),
                            v.measured.clone(),
                            v.notified.clone().unwrap_or_default(),
                            v.resolved_notice.clone().unwrap_or_default(),
                            if v.passed { "PASS" } else { "FAIL" }.into(),
                        ]
                    })
                    .collect(),
            },
            Block::Heading(2, "Timeline".into()),
            Block::Paragraph(
                "Times are relative to the start of each step's fault (the first action of \
                 its method); the fault ends when its rollbacks are done."
                    .into(),
            ),
        ];
        for step in &self.steps {
            blocks.extend(self.step_blocks(step));
        }
        blocks.push(Block::Heading(2, "Load".into()));
        blocks.push(match &self.load {
            Some(load) => Block::Table {
                header: ["Requests", "Failed", "Requests/s", "Duration"]
                    .map(String::from)
                    .to_vec(),
                rows: vec![vec![
                    load.requests.to_string(),
                    format!(
                        "{} ({:.1} %)",
                        load.failures,
                        100.0 * load.failures as f64 / load.requests.max(1) as f64
                    ),
                    format!("{:.1}", load.requests_per_second),
                    format!("{} s", load.duration_seconds),
                ]],
            },
            None => Block::Paragraph("loadgen wrote no summary (see loadgen/loadgen.log).".into()),
        });
        blocks.push(Block::Paragraph(
            "Failures are expected during the faults: that is what the alerts are for. \
             Goose's full report is in `loadgen/report.html`."
                .into(),
        ));
        if !self.charts.is_empty() {
            blocks.push(Block::Heading(2, "Charts".into()));
            blocks.push(Block::Paragraph(
                "Rendered from Prometheus; the shaded bands are the faults, the dotted \
                 lines the notifications Alertmanager delivered."
                    .into(),
            ));
            for chart in &self.charts {
                blocks.push(Block::Image {
                    alt: chart.title.clone(),
                    src: chart.file.clone(),
                });
            }
        }
        blocks
    }

    fn step_blocks(&self, step: &StepReport) -> Vec<Block> {
        let mut blocks = vec![Block::Heading(
            3,
            format!("{}: `{}`", step.name, step.experiment),
        )];
        if let Some(reason) = &step.skipped {
            blocks.push(Block::Paragraph(format!("Skipped: {reason}.")));
            return blocks;
        }
        let origin = step.fault.map_or(step.started, |f| f.start);
        let rows = self
            .timeline
            .iter()
            .filter(|e| e.at >= step.started - 0.001 && e.at <= step.ended + 0.001)
            .map(|e| vec![relative(e.at - origin), describe(&e.what)])
            .collect();
        blocks.push(Block::Table {
            header: vec!["Time".into(), "Event".into()],
            rows,
        });
        if let Some(journal) = &step.journal {
            blocks.push(Block::Paragraph(format!("Journal: `{journal}`.")));
        }
        blocks
    }
}

fn describe(what: &EventKind) -> String {
    match what {
        EventKind::StepStarted { .. } => "step started (steady-state hypothesis)".into(),
        EventKind::FaultStarted { .. } => "**fault injected**".into(),
        EventKind::FaultEnded { .. } => "**fault rolled back**".into(),
        EventKind::StepEnded { .. } => "step ended".into(),
        EventKind::Alert {
            alert,
            severity,
            state,
        } => format!("`{alert}` ({severity}) {state}"),
        EventKind::Note { text } => text.clone(),
        EventKind::Notification {
            receiver,
            alert,
            status,
            ..
        } => match status.as_str() {
            "resolved" => format!("resolved notice of {alert} delivered to {receiver}"),
            _ => format!("**{alert} delivered to {receiver}**"),
        },
    }
}

/// `+7.2 s`, `-3.0 s`.
fn relative(seconds: f64) -> String {
    format!("{seconds:+.1} s")
}

fn rfc3339(unix: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{unix:.0}"))
}
