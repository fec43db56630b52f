//! One chart: lines over time, shaded intervals (such as fault windows) and
//! dashed threshold lines, drawn with plotters to PNG or SVG.

use std::{path::Path, sync::Once};

use plotters::{
    coord::Shift,
    prelude::*,
    style::{register_font, FontStyle},
};

use super::text::Glyphs;
use crate::{model::Unit, Error, Result};

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub unit: Unit,
    pub lines: Vec<Line>,
    /// Shaded time intervals, such as the windows in which a fault was active.
    pub shaded: Vec<Interval>,
    /// Dashed horizontal lines, such as an alert's burn-rate factor.
    pub thresholds: Vec<Threshold>,
    /// Dotted vertical lines at moments, such as notifications delivered.
    pub markers: Vec<Marker>,
    /// The x axis (Unix seconds); by default, the lines' extent.
    pub time_range: Option<(f64, f64)>,
    /// Pixels.
    pub size: (u32, u32),
}

/// One series: `(Unix seconds, value)` points; a non-finite value breaks the line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A shaded interval, in Unix seconds, named in the legend by `label`.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub start: f64,
    pub end: f64,
    pub label: String,
}

/// A dashed horizontal line.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub value: f64,
    pub label: String,
}

/// A dotted vertical line at `at` (Unix seconds), named in the legend by
/// `label` (one entry per distinct label).
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub at: f64,
    pub label: String,
}

impl Chart {
    pub fn new(title: impl Into<String>, unit: Unit) -> Chart {
        Chart {
            title: title.into(),
            unit,
            lines: Vec::new(),
            shaded: Vec::new(),
            thresholds: Vec::new(),
            markers: Vec::new(),
            time_range: None,
            size: (1000, 420),
        }
    }
}

/// Grafana's classic palette.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x73, 0xbf, 0x69),
    RGBColor(0xf2, 0xcc, 0x0c),
    RGBColor(0x8a, 0xb8, 0xff),
    RGBColor(0xff, 0x78, 0x0a),
    RGBColor(0xf2, 0x49, 0x5c),
    RGBColor(0x57, 0x94, 0xf2),
    RGBColor(0xb8, 0x77, 0xd9),
    RGBColor(0x70, 0x5d, 0xa0),
    RGBColor(0x37, 0x87, 0x2d),
    RGBColor(0xfa, 0xde, 0x2a),
];
const SHADE: RGBAColor = RGBAColor(0xf2, 0x49, 0x5c, 0.14);
const THRESHOLD: RGBColor = RGBColor(0xd4, 0x2a, 0x3c);
const MARKER: RGBColor = RGBColor(0x6d, 0x28, 0xd9);
const FONT: &str = "sans-serif";
const LEGEND_WIDTH: u32 = 240;

/// The fonts are compiled in, so a chart renders the same everywhere.
fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // Both are valid TrueType files shipped by the dejavu crate.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Draws `chart` to `path`: SVG for a `.svg` path, PNG otherwise.
pub fn draw(chart: &Chart, path: &Path) -> Result<()> {
    register_fonts();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            action: "creating",
            path: parent.to_owned(),
            source,
        })?;
    }
    let failed = |message: String| Error::Draw {
        path: path.to_owned(),
        message,
    };
    if path.extension().is_some_and(|e| e == "svg") {
        let root = SVGBackend::new(path, chart.size).into_drawing_area();
        draw_on(&root, chart).map_err(|e| failed(e.to_string()))?;
        root.present().map_err(|e| failed(e.to_string()))
    } else {
        let root = Glyphs::new(BitMapBackend::new(path, chart.size)).into_drawing_area();
        draw_on(&root, chart).map_err(|e| failed(e.to_string()))?;
        root.present().map_err(|e| failed(e.to_string()))
    }
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_on<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(&chart.title, (FONT, 20).into_font().style(FontStyle::Bold))?;
    let (width, _) = root.dim_in_pixel();
    let (plot, legend) = root.split_horizontally(width.saturating_sub(LEGEND_WIDTH));

    let finite = || {
        chart
            .lines
            .iter()
            .flat_map(|l| &l.points)
            .filter(|(t, v)| t.is_finite() && v.is_finite())
    };
    let (x0, x1) = chart.time_range.unwrap_or_else(|| {
        let (lo, hi) = finite().fold((f64::MAX, f64::MIN), |(lo, hi), (t, _)| {
            (lo.min(*t), hi.max(*t))
        });
        if lo > hi {
            (0.0, 1.0)
        } else {
            (lo, hi)
        }
    });
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let values = finite()
        .map(|(_, v)| *v)
        .chain(chart.thresholds.iter().map(|t| t.value));
    let (lo, hi) = values.fold((0.0_f64, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let hi = if hi > lo {
        hi + (hi - lo) * 0.08
    } else {
        lo + 1.0
    };

    let mut ctx = ChartBuilder::on(&plot)
        .margin(10)
        .x_label_area_size(34)
        .y_label_area_size(86)
        .build_cartesian_2d(x0..x1, lo..hi)?;
    let unit = chart.unit;
    ctx.configure_mesh()
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .x_labels(7)
        .y_labels(6)
        .x_label_formatter(&|t| clock(*t))
        .y_label_formatter(&|v| unit.format(*v))
        .label_style((FONT, 13))
        .draw()?;

    ctx.draw_series(
        chart
            .shaded
            .iter()
            .map(|i| Rectangle::new([(i.start.max(x0), lo), (i.end.min(x1), hi)], SHADE.filled())),
    )?;
    for threshold in &chart.thresholds {
        ctx.draw_series(DashedLineSeries::new(
            [(x0, threshold.value), (x1, threshold.value)],
            8,
            5,
            THRESHOLD.stroke_width(2),
        ))?;
    }
    for marker in chart.markers.iter().filter(|m| (x0..=x1).contains(&m.at)) {
        ctx.draw_series(DashedLineSeries::new(
            [(marker.at, lo), (marker.at, hi)],
            3,
            3,
            MARKER.stroke_width(2),
        ))?;
    }
    for (i, line) in chart.lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        for segment in segments(&line.points) {
            if segment.len() == 1 {
                ctx.draw_series(std::iter::once(Circle::new(segment[0], 2, color.filled())))?;
            } else {
                ctx.draw_series(LineSeries::new(segment, color.stroke_width(2)))?;
            }
        }
    }
    if chart.lines.iter().all(|l| segments(&l.points).is_empty()) {
        plot.draw_text(
            "No data",
            &(FONT, 18).into_font().color(&RGBColor(0x88, 0x88, 0x88)),
            (
                plot.dim_in_pixel().0 as i32 / 2 - 30,
                plot.dim_in_pixel().1 as i32 / 2,
            ),
        )?;
    }
    draw_legend(&legend, chart)
}

/// The legend, right of the plot: one entry per line, shaded interval kind
/// and threshold.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart) -> DrawResult<DB> {
    let style = TextStyle::from((FONT, 13).into_font());
    let mut y = 16;
    let mut entry = |swatch: &dyn Fn(i32) -> DrawResult<DB>, label: &str| -> DrawResult<DB> {
        if y > area.dim_in_pixel().1 as i32 - 14 {
            return Ok(());
        }
        swatch(y)?;
        area.draw_text(&truncate(label, 30), &style, (28, y - 7))?;
        y += 20;
        Ok(())
    };
    for (i, line) in chart.lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        entry(
            &|y| area.draw(&Rectangle::new([(4, y - 2), (22, y + 2)], color.filled())),
            &line.label,
        )?;
    }
    let mut shade_labels: Vec<&str> = chart.shaded.iter().map(|i| i.label.as_str()).collect();
    shade_labels.dedup();
    for label in shade_labels {
        entry(
            &|y| area.draw(&Rectangle::new([(4, y - 7), (22, y + 7)], SHADE.filled())),
            label,
        )?;
    }
    for threshold in &chart.thresholds {
        entry(
            &|y| {
                area.draw(&PathElement::new(
                    [(4, y), (22, y)],
                    THRESHOLD.stroke_width(2),
                ))
            },
            &threshold.label,
        )?;
    }
    let mut marker_labels: Vec<&str> = chart.markers.iter().map(|m| m.label.as_str()).collect();
    marker_labels.sort_unstable();
    marker_labels.dedup();
    for label in marker_labels {
        entry(
            &|y| {
                area.draw(&PathElement::new(
                    [(13, y - 7), (13, y + 7)],
                    MARKER.stroke_width(2),
                ))
            },
            label,
        )?;
    }
    Ok(())
}

/// The runs of finite points.
fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for &(t, v) in points {
        if t.is_finite() && v.is_finite() {
            out.last_mut().expect("never empty").push((t, v));
        } else if !out.last().expect("never empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// `HH:MM:SS` in UTC.
fn clock(unix_seconds: f64) -> String {
    let s = unix_seconds.rem_euclid(86_400.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(chars - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_non_finite_values() {
        let points = [(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0)];
        assert_eq!(
            segments(&points),
            [vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]
        );
    }

    #[test]
    fn times_are_shown_as_utc_clock_times() {
        assert_eq!(clock(1_700_000_000.0), "22:13:20");
    }

    #[test]
    fn a_chart_with_a_shaded_interval_renders_to_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let mut chart = Chart::new("Error ratio", Unit::Ratio);
        chart.lines.push(Line {
            label: "5xx share".into(),
            points: (0..60)
                .map(|i| (1000.0 + f64::from(i), f64::from(i % 7) / 20.0))
                .collect(),
        });
        chart.shaded.push(Interval {
            start: 1020.0,
            end: 1040.0,
            label: "error fault".into(),
        });
        chart.thresholds.push(Threshold {
            value: 0.0144,
            label: "page at 14.4×".into(),
        });
        let png = dir.path().join("chart.png");
        draw(&chart, &png).unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

        let svg = dir.path().join("chart.svg");
        draw(&chart, &svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg"), "{text}");
        assert!(text.contains("Error ratio"));
        assert!(text.contains("error fault"));
    }

    #[test]
    fn a_marker_is_a_vertical_line_named_once_in_the_legend() {
        let dir = tempfile::tempdir().unwrap();
        let mut chart = Chart::new("Request rate", Unit::RequestsPerSecond);
        chart.lines.push(Line {
            label: "all".into(),
            points: (0..60).map(|i| (1000.0 + f64::from(i), 10.0)).collect(),
        });
        for at in [1010.0, 1030.0] {
            chart.markers.push(Marker {
                at,
                label: "page delivered".into(),
            });
        }
        let svg = dir.path().join("chart.svg");
        draw(&chart, &svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert_eq!(text.matches("page delivered").count(), 1, "{text}");
        assert!(
            text.to_uppercase().contains("#6D28D9"),
            "no marker colour in {text}"
        );
    }
}
