//! The simulation as a PNG: demand against ready capacity (overloaded
//! seconds shaded), replicas against ready pods, and the error budget spent
//! so far against the whole budget. Drawn with plotters' bitmap backend and
//! the DejaVu fonts compiled in, as the dashboards crate draws its panels.

use std::path::Path;
use std::sync::Once;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use super::Simulation;
use crate::slo::trim;

const FONT: &str = "sans-serif";
const DEMAND: RGBColor = RGBColor(0x57, 0x94, 0xf2);
const CAPACITY: RGBColor = RGBColor(0x73, 0xbf, 0x69);
const REPLICAS: RGBColor = RGBColor(0xff, 0x78, 0x0a);
const BAD: RGBColor = RGBColor(0xd4, 0x2a, 0x3c);
/// Points drawn per line at most; a day has 86,400 seconds.
const POINTS: usize = 2_000;

fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Draw `simulation` to `path` (PNG).
pub fn draw(simulation: &Simulation, path: &Path) -> Result<(), String> {
    register_fonts();
    let root = BitMapBackend::new(path, (1100, 960)).into_drawing_area();
    draw_on(&root, simulation)?;
    root.present().map_err(failed)
}

type Coord = Cartesian2d<RangedCoordf64, RangedCoordf64>;
type DrawResult<T = ()> = Result<T, String>;

fn failed(error: impl std::fmt::Display) -> String {
    error.to_string()
}

fn draw_on<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, sim: &Simulation) -> DrawResult {
    root.fill(&WHITE).map_err(failed)?;
    let verdict = if sim.held { "SLO held" } else { "SLO BREACHED" };
    let title = format!(
        "HPA simulation: {} (peak {} req/s, {} req/s per replica, target {}) - {verdict}",
        sim.profile,
        trim(sim.peak_rps),
        trim(sim.capacity_rps_per_replica),
        trim(sim.target_rps_per_pod)
    );
    let root = root
        .titled(&title, (FONT, 18).into_font().style(FontStyle::Bold))
        .map_err(failed)?;
    let panels = root.split_evenly((3, 1));
    let (unit, scale) = if sim.seconds > 4 * 3600 {
        ("hours", 3600.0)
    } else {
        ("minutes", 60.0)
    };
    let end = (sim.seconds.max(2) - 1) as f64 / scale;
    let stride = sim.per_second.len().div_ceil(POINTS).max(1);
    let at = |second: usize| second as f64 / scale;
    let sampled = || sim.per_second.iter().enumerate().step_by(stride);

    // Requests per second.
    let top = sampled().map(|(_, s)| s.0.max(s.1)).fold(1.0_f64, f64::max) * 1.1;
    let mut rates = panel(&panels[0], end, top, "req/s", unit).map_err(failed)?;
    for (start, stop) in overloaded_runs(sim) {
        rates
            .draw_series(std::iter::once(Rectangle::new(
                [(at(start), 0.0), (at(stop), top)],
                BAD.mix(0.18).filled(),
            )))
            .map_err(failed)?;
    }
    rates
        .draw_series(LineSeries::new(
            sampled().map(|(t, s)| (at(t), s.0)),
            DEMAND.stroke_width(2),
        ))
        .map_err(failed)?
        .label("demand")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], DEMAND.stroke_width(2)));
    rates
        .draw_series(LineSeries::new(
            sampled().map(|(t, s)| (at(t), s.1)),
            CAPACITY.stroke_width(2),
        ))
        .map_err(failed)?
        .label("ready capacity")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], CAPACITY.stroke_width(2)));
    legend(&mut rates).map_err(failed)?;

    // Replicas.
    let most = f64::from(sim.max_replicas.max(sim.highest_replicas)) + 1.0;
    let mut replicas = panel(&panels[1], end, most, "replicas", unit).map_err(failed)?;
    replicas
        .draw_series(LineSeries::new(
            sampled().map(|(t, s)| (at(t), f64::from(s.2))),
            REPLICAS.stroke_width(2),
        ))
        .map_err(failed)?
        .label("replicas (desired)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], REPLICAS.stroke_width(2)));
    replicas
        .draw_series(LineSeries::new(
            sampled().map(|(t, s)| (at(t), f64::from(s.3))),
            CAPACITY.stroke_width(2),
        ))
        .map_err(failed)?
        .label("ready")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], CAPACITY.stroke_width(2)));
    replicas
        .draw_series(DashedLineSeries::new(
            [
                (0.0, f64::from(sim.max_replicas)),
                (end, f64::from(sim.max_replicas)),
            ],
            6,
            4,
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(failed)?;
    legend(&mut replicas).map_err(failed)?;

    // Error budget spent so far, as a percentage of the whole run's budget.
    let spent_top = sim
        .timeline
        .iter()
        .map(|t| t.budget_spent * 100.0)
        .filter(|v| v.is_finite())
        .fold(120.0_f64, f64::max)
        * 1.05;
    let mut budget = panel(&panels[2], end, spent_top, "budget spent %", unit).map_err(failed)?;
    budget
        .draw_series(LineSeries::new(
            sim.timeline
                .iter()
                .map(|t| (at(t.second), (t.budget_spent * 100.0).min(spent_top))),
            BAD.stroke_width(2),
        ))
        .map_err(failed)?
        .label("error budget spent (strictest SLO)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BAD.stroke_width(2)));
    budget
        .draw_series(DashedLineSeries::new(
            [(0.0, 100.0), (end, 100.0)],
            8,
            5,
            BLACK.stroke_width(1),
        ))
        .map_err(failed)?
        .label("whole budget: above breaches")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(1)));
    legend(&mut budget)
}

fn panel<'b, DB: DrawingBackend>(
    area: &'b DrawingArea<DB, Shift>,
    end: f64,
    top: f64,
    y: &str,
    x: &str,
) -> DrawResult<ChartContext<'b, DB, Coord>> {
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..end, 0.0..top)
        .map_err(failed)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .x_desc(x)
        .y_desc(y)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(failed)?;
    Ok(chart)
}

fn legend<'b, DB: DrawingBackend + 'b>(chart: &mut ChartContext<'b, DB, Coord>) -> DrawResult {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xcc, 0xcc, 0xcc))
        .draw()
        .map_err(failed)
}

/// Runs of seconds with demand above the ready capacity, as [start, stop).
fn overloaded_runs(sim: &Simulation) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (second, s) in sim.per_second.iter().enumerate() {
        if s.0 > s.1 {
            match runs.last_mut() {
                Some(run) if run.1 == second => run.1 = second + 1,
                _ => runs.push((second, second + 1)),
            }
        }
    }
    runs
}
