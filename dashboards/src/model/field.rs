//! How a panel shows its values: units, thresholds, colours (Grafana's
//! `fieldConfig`).

use serde::{Serialize, Serializer};

/// A Grafana unit id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// `reqps`: requests per second.
    RequestsPerSecond,
    /// `ops`: operations per second.
    OpsPerSecond,
    /// `s`: seconds, shown as ms, s, min as fits.
    Seconds,
    /// `percentunit`: a ratio from 0 to 1, shown as a percentage.
    Ratio,
    /// `bytes` (IEC: KiB, MiB).
    Bytes,
    /// `short`: a plain number with k, M suffixes.
    Short,
    /// `none`: the number as it is.
    None,
    /// `currency<CODE>`, such as `currencyEUR`.
    Currency(&'static str),
    /// A custom suffix, such as ` orders/min` or `×`.
    Suffix(&'static str),
}

impl Unit {
    /// The id Grafana stores.
    pub fn id(self) -> String {
        match self {
            Unit::RequestsPerSecond => "reqps".into(),
            Unit::OpsPerSecond => "ops".into(),
            Unit::Seconds => "s".into(),
            Unit::Ratio => "percentunit".into(),
            Unit::Bytes => "bytes".into(),
            Unit::Short => "short".into(),
            Unit::None => "none".into(),
            Unit::Currency(code) => format!("currency{code}"),
            Unit::Suffix(suffix) => format!("suffix:{suffix}"),
        }
    }

    /// Reads a unit id back (for charts drawn from dashboard JSON); unknown
    /// ids are shown as plain numbers.
    pub fn from_id(id: &str) -> Unit {
        match id {
            "reqps" => Unit::RequestsPerSecond,
            "ops" => Unit::OpsPerSecond,
            "s" => Unit::Seconds,
            "percentunit" => Unit::Ratio,
            "bytes" => Unit::Bytes,
            "none" => Unit::None,
            _ => Unit::Short,
        }
    }

    /// A value as a chart's axis label shows it: `250 ms`, `12.5%`, `3.2 MiB`.
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return value.to_string();
        }
        match self {
            Unit::Seconds if value != 0.0 && value.abs() < 1.0 => {
                format!("{} ms", trim(value * 1000.0))
            }
            Unit::Seconds => format!("{} s", trim(value)),
            Unit::Ratio => format!("{}%", trim(value * 100.0)),
            Unit::Bytes => {
                let mut scaled = value;
                let mut suffix = "B";
                for next in ["KiB", "MiB", "GiB", "TiB"] {
                    if scaled.abs() < 1024.0 {
                        break;
                    }
                    scaled /= 1024.0;
                    suffix = next;
                }
                format!("{} {suffix}", trim(scaled))
            }
            Unit::RequestsPerSecond => format!("{} req/s", short(value)),
            Unit::OpsPerSecond => format!("{} ops/s", short(value)),
            Unit::Currency(code) => format!("{} {code}", short(value)),
            Unit::Suffix(suffix) => format!("{}{suffix}", short(value)),
            Unit::Short | Unit::None => short(value),
        }
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.id())
    }
}

fn short(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1e6 {
        format!("{}M", trim(value / 1e6))
    } else if abs >= 1e3 {
        format!("{}k", trim(value / 1e3))
    } else {
        trim(value)
    }
}

/// At most three significant decimals, no trailing zeros.
fn trim(value: f64) -> String {
    let decimals = match value.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A colour as Grafana names it (`green`, `red`, ...) or `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Color(pub &'static str);

impl Color {
    pub const GREEN: Color = Color("green");
    pub const YELLOW: Color = Color("yellow");
    pub const ORANGE: Color = Color("orange");
    pub const RED: Color = Color("red");
    pub const BLUE: Color = Color("blue");
    pub const PURPLE: Color = Color("purple");
    pub const TRANSPARENT: Color = Color("transparent");
}

/// Colour steps: the base colour, then a colour from each value up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    mode: &'static str,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Step {
    color: Color,
    /// `null` for the base step.
    value: Option<f64>,
}

impl Thresholds {
    /// Absolute thresholds starting with `base`.
    pub fn base(base: Color) -> Thresholds {
        Thresholds {
            mode: "absolute",
            steps: vec![Step {
                color: base,
                value: None,
            }],
        }
    }

    /// From `value` up, `color`. Steps must be added in increasing order.
    pub fn above(mut self, value: f64, color: Color) -> Thresholds {
        debug_assert!(self.steps.last().and_then(|s| s.value) < Some(value));
        self.steps.push(Step {
            color,
            value: Some(value),
        });
        self
    }

    /// The step values, lowest first (the base has none).
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.steps.iter().filter_map(|s| s.value)
    }
}

/// How a time series panel draws its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThresholdStyle {
    Off,
    Line,
    Dashed,
    Area,
    #[serde(rename = "line+area")]
    LineAndArea,
}

/// `fieldConfig`: defaults for every field, no overrides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldConfig {
    pub defaults: FieldDefaults,
    pub overrides: Vec<serde_json::Value>,
}

/// `fieldConfig.defaults`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDefaults {
    pub unit: Unit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    pub color: ColorMode,
    pub thresholds: Thresholds,
    pub mappings: Vec<serde_json::Value>,
    /// Panel-type specific (`drawStyle`, `thresholdsStyle`...); absent for
    /// panels without such settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Value>,
}

/// `fieldConfig.defaults.color`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColorMode {
    pub mode: &'static str,
}

impl ColorMode {
    /// One colour per series.
    pub const PALETTE: ColorMode = ColorMode {
        mode: "palette-classic",
    };
    /// The colour of the threshold step the value is in.
    pub const THRESHOLDS: ColorMode = ColorMode { mode: "thresholds" };
}

impl FieldConfig {
    pub(crate) fn new(unit: Unit, color: ColorMode) -> FieldConfig {
        FieldConfig {
            defaults: FieldDefaults {
                unit,
                min: None,
                max: None,
                decimals: None,
                color,
                thresholds: Thresholds::base(Color::GREEN),
                mappings: Vec::new(),
                custom: None,
            },
            overrides: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_serialise_to_grafana_ids() {
        assert_eq!(
            serde_json::to_value(Unit::Currency("EUR")).unwrap(),
            "currencyEUR"
        );
        assert_eq!(
            serde_json::to_value(Unit::Suffix(" orders/min")).unwrap(),
            "suffix: orders/min"
        );
        assert_eq!(serde_json::to_value(Unit::Ratio).unwrap(), "percentunit");
        assert_eq!(Unit::from_id("percentunit"), Unit::Ratio);
    }

    #[test]
    fn axis_labels_scale_with_the_unit() {
        assert_eq!(Unit::Seconds.format(0.25), "250 ms");
        assert_eq!(Unit::Seconds.format(2.0), "2 s");
        assert_eq!(Unit::Ratio.format(0.125), "12.5%");
        assert_eq!(Unit::Bytes.format(3.5 * 1024.0 * 1024.0), "3.5 MiB");
        assert_eq!(Unit::RequestsPerSecond.format(1500.0), "1.5k req/s");
        assert_eq!(Unit::Short.format(0.0), "0");
    }

    #[test]
    fn thresholds_serialise_with_a_null_base_step() {
        let thresholds = Thresholds::base(Color::GREEN).above(14.4, Color::RED);
        assert_eq!(
            serde_json::to_value(&thresholds).unwrap(),
            serde_json::json!({
                "mode": "absolute",
                "steps": [{"color": "green", "value": null}, {"color": "red", "value": 14.4}]
            })
        );
        assert_eq!(thresholds.values().collect::<Vec<_>>(), [14.4]);
    }
}
