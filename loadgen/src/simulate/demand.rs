//! The demand a simulation replays: requests per second for each second,
//! from a built-in shape scaled to a peak or from a CSV file.

use std::f64::consts::PI;
use std::path::Path;

/// Requests per second for each second from 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    /// `spike`, `ramp`, `daily`, or the CSV file's path.
    pub name: String,
    pub per_second: Vec<f64>,
}

/// The built-in shapes' quiet level, as a share of the peak.
pub const BASE_SHARE: f64 = 0.2;

/// Why a profile cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DemandError {
    #[error("could not read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} line {line}: {reason} (want `seconds,requests_per_second`)")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("{0} has fewer than two points")]
    TooShort(String),
    #[error("{0:?} is neither a built-in profile (spike, ramp, daily) nor a CSV file that exists")]
    Unknown(String),
}

impl Demand {
    /// `spike`, `ramp` or `daily` scaled to `peak_rps`, or a CSV file.
    pub fn load(profile: &str, peak_rps: f64) -> Result<Demand, DemandError> {
        match profile {
            "spike" => Ok(Demand::built_in(profile, spike(peak_rps))),
            "ramp" => Ok(Demand::built_in(profile, ramp(peak_rps))),
            "daily" => Ok(Demand::built_in(profile, daily(peak_rps))),
            path if Path::new(path).is_file() => {
                let text = std::fs::read_to_string(path).map_err(|e| DemandError::Read {
                    path: path.to_string(),
                    reason: e.to_string(),
                })?;
                Demand::from_csv(path, &text)
            }
            other => Err(DemandError::Unknown(other.to_string())),
        }
    }

    fn built_in(name: &str, per_second: Vec<f64>) -> Demand {
        Demand {
            name: name.to_string(),
            per_second,
        }
    }

    /// `seconds,requests_per_second` rows (a header line is allowed, `#`
    /// starts a comment), seconds rising; the rate between two points is
    /// interpolated linearly.
    pub fn from_csv(name: &str, text: &str) -> Result<Demand, DemandError> {
        let mut points: Vec<(u64, f64)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() || (index == 0 && line.starts_with(|c: char| c.is_alphabetic())) {
                continue;
            }
            let bad = |reason: String| DemandError::Line {
                path: name.to_string(),
                line: index + 1,
                reason,
            };
            let mut fields = line.split(',').map(str::trim);
            let (Some(seconds), Some(rate), None) = (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad(format!("{line:?} is not two fields")));
            };
            let seconds: u64 = seconds
                .parse()
                .map_err(|_| bad(format!("{seconds:?} is not whole seconds")))?;
            let rate: f64 = rate
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| bad(format!("{rate:?} is not a rate of 0 or more")))?;
            if let Some(&(last, _)) = points.last() {
                if seconds <= last {
                    return Err(bad(format!("{seconds} s does not come after {last} s")));
                }
            }
            points.push((seconds, rate));
        }
        if points.len() < 2 {
            return Err(DemandError::TooShort(name.to_string()));
        }
        let end = points.last().map_or(0, |p| p.0);
        let per_second = (0..=end)
            .map(|second| interpolate(&points, second))
            .collect();
        Ok(Demand {
            name: name.to_string(),
            per_second,
        })
    }

    pub fn peak(&self) -> f64 {
        self.per_second.iter().copied().fold(0.0, f64::max)
    }

    pub fn seconds(&self) -> usize {
        self.per_second.len()
    }
}

fn interpolate(points: &[(u64, f64)], second: u64) -> f64 {
    let after = points.partition_point(|p| p.0 < second);
    if after == 0 {
        return points[0].1;
    }
    let Some(&(t1, r1)) = points.get(after) else {
        return points[points.len() - 1].1;
    };
    let (t0, r0) = points[after - 1];
    r0 + (r1 - r0) * (second - t0) as f64 / (t1 - t0) as f64
}

/// Five quiet minutes, the peak within 10 s and for 3 minutes, back to
/// quiet for 10 minutes: the scale-up race and the scale-down window.
fn spike(peak: f64) -> Vec<f64> {
    let base = peak * BASE_SHARE;
    let points = [
        (0, base),
        (300, base),
        (310, peak),
        (490, peak),
        (500, base),
        (1100, base),
    ];
    curve(&points)
}

/// Quiet to the peak in 15 minutes, 5 minutes there, down in 10.
fn ramp(peak: f64) -> Vec<f64> {
    let base = peak * BASE_SHARE;
    curve(&[(0, base), (900, peak), (1200, peak), (1800, base)])
}

/// 24 hours: lowest at 04:00, the peak at 16:00, a smooth curve between.
fn daily(peak: f64) -> Vec<f64> {
    let base = peak * BASE_SHARE;
    let day = 86_400.0;
    (0..86_400)
        .map(|second| {
            let phase = 2.0 * PI * (f64::from(second) - 4.0 * 3600.0) / day;
            base + (peak - base) * (0.5 - 0.5 * phase.cos())
        })
        .collect()
}

fn curve(points: &[(u64, f64)]) -> Vec<f64> {
    let end = points.last().map_or(0, |p| p.0);
    (0..=end).map(|s| interpolate(points, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_reach_the_peak_from_a_fifth_of_it() {
        for name in ["spike", "ramp", "daily"] {
            let demand = Demand::load(name, 1000.0).unwrap();
            assert!((demand.peak() - 1000.0).abs() < 1e-6, "{name}");
            let low = demand.per_second.iter().copied().fold(f64::MAX, f64::min);
            assert!((low - 200.0).abs() < 1e-6, "{name}");
        }
        assert_eq!(Demand::load("daily", 1.0).unwrap().seconds(), 86_400);
    }

    #[test]
    fn a_csv_is_interpolated_between_its_points() {
        let demand = Demand::from_csv(
            "d.csv",
            "seconds,requests_per_second\n0,100\n10,200 # up\n20,200\n",
        )
        .unwrap();
        assert_eq!(demand.seconds(), 21);
        assert_eq!(demand.per_second[5], 150.0);
        assert_eq!(demand.per_second[15], 200.0);
    }

    #[test]
    fn a_csv_that_does_not_parse_names_its_line() {
        let error = Demand::from_csv("d.csv", "0,100\n5,lots\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "d.csv line 2: \"lots\" is not a rate of 0 or more (want `seconds,requests_per_second`)"
        );
        assert!(matches!(
            Demand::from_csv("d.csv", "0,1\n0,2\n"),
            Err(DemandError::Line { line: 2, .. })
        ));
        assert_eq!(
            Demand::from_csv("d.csv", "0,1\n"),
            Err(DemandError::TooShort("d.csv".into()))
        );
        assert!(matches!(
            Demand::load("tsunami", 1.0),
            Err(DemandError::Unknown(_))
        ));
    }
}
