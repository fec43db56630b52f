//! SLO periods and their multi-window multi-burn-rate alert windows, with the
//! burn-rate factors computed as Sloth computes them.

use std::{fmt, str::FromStr, time::Duration};

use crate::{promql::format_duration, Error, Result};

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The period an SLO is measured over. Only the periods Sloth ships default
/// alert windows for exist: 30, 28 and 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    days: u32,
}

impl Period {
    pub const DAYS_30: Period = Period { days: 30 };
    pub const DAYS_28: Period = Period { days: 28 };
    pub const DAYS_7: Period = Period { days: 7 };
    pub const ALL: [Period; 3] = [Period::DAYS_30, Period::DAYS_28, Period::DAYS_7];

    pub fn days(self) -> u32 {
        self.days
    }

    pub fn duration(self) -> Duration {
        Duration::from_secs(u64::from(self.days) * DAY)
    }

    /// The window name Sloth gives the whole period: `30d`, `4w`, `1w`.
    pub fn window(self) -> String {
        format_duration(self.duration())
    }

    /// The four alert window pairs, page first: the Google SRE workbook's
    /// budget shares, as in Sloth's default window catalogue for this period.
    pub fn alert_windows(self) -> [AlertWindow; 4] {
        // (severity, share of the period's budget, short window, long window)
        let shares: [(Severity, f64, u64, u64); 4] = match self.days {
            7 => [
                (Severity::Page, 8.0, 5 * MINUTE, HOUR),
                (Severity::Page, 12.5, 30 * MINUTE, 6 * HOUR),
                (Severity::Ticket, 20.0, 2 * HOUR, DAY),
                (Severity::Ticket, 42.0, 6 * HOUR, 3 * DAY),
            ],
            _ => [
                (Severity::Page, 2.0, 5 * MINUTE, HOUR),
                (Severity::Page, 5.0, 30 * MINUTE, 6 * HOUR),
                (Severity::Ticket, 10.0, 2 * HOUR, DAY),
                (Severity::Ticket, 10.0, 6 * HOUR, 3 * DAY),
            ],
        };
        shares.map(|(severity, budget_percent, short, long)| AlertWindow {
            severity,
            budget_percent,
            short: Duration::from_secs(short),
            long: Duration::from_secs(long),
            burn_rate: burn_rate_factor(self.duration(), budget_percent, Duration::from_secs(long)),
        })
    }

    /// Every window an SLI is recorded over: the alert windows, shortest
    /// first, then the whole period.
    pub fn sli_windows(self) -> Vec<Duration> {
        let mut windows: Vec<Duration> = self
            .alert_windows()
            .iter()
            .flat_map(|w| [w.short, w.long])
            .collect();
        windows.sort();
        windows.dedup();
        windows.push(self.duration());
        windows
    }
}

impl Default for Period {
    fn default() -> Self {
        Period::DAYS_30
    }
}

impl FromStr for Period {
    type Err = Error;

    /// `30d`, `28d` (or `4w`), `7d` (or `1w`).
    fn from_str(text: &str) -> Result<Self> {
        let duration = crate::promql::parse_duration(text)
            .map_err(|_| Error::UnsupportedPeriod(text.to_owned()))?;
        Period::ALL
            .into_iter()
            .find(|p| p.duration() == duration)
            .ok_or_else(|| Error::UnsupportedPeriod(text.to_owned()))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}d", self.days)
    }
}

/// Who is told: a person now (`page`), or a queue worked in office hours (`ticket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// One window pair of a multi-window multi-burn-rate alert: it fires while the
/// error ratio over both windows exceeds `burn_rate` times the error budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertWindow {
    pub severity: Severity,
    /// Share of the whole period's error budget (percent) that this pair
    /// catches being spent within its long window.
    pub budget_percent: f64,
    pub short: Duration,
    pub long: Duration,
    pub burn_rate: f64,
}

impl AlertWindow {
    /// The `tier` label value naming this pair: `1h_5m`, `6h_30m`, `1d_2h`, `3d_6h`.
    pub fn tier(&self) -> String {
        format!(
            "{}_{}",
            format_duration(self.long),
            format_duration(self.short)
        )
    }
}

/// Sloth's formula: the speed at which `budget_percent` of the period's budget
/// is spent within `long`, in the same order of float operations so that the
/// numbers print identically.
fn burn_rate_factor(period: Duration, budget_percent: f64, long: Duration) -> f64 {
    let hours = |d: Duration| d.as_secs() as f64 / 3600.0;
    let hours_to_spend = budget_percent * hours(period) / 100.0;
    hours_to_spend / hours(long)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factors(period: Period) -> Vec<f64> {
        period.alert_windows().iter().map(|w| w.burn_rate).collect()
    }

    #[test]
    fn thirty_days_use_the_workbook_factors() {
        assert_eq!(factors(Period::DAYS_30), [14.4, 6.0, 3.0, 1.0]);
        let tiers: Vec<_> = Period::DAYS_30
            .alert_windows()
            .iter()
            .map(AlertWindow::tier)
            .collect();
        assert_eq!(tiers, ["1h_5m", "6h_30m", "1d_2h", "3d_6h"]);
    }

    #[test]
    fn other_periods_scale_the_factors_like_sloth() {
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9);
        assert!(close(
            &factors(Period::DAYS_28),
            &[13.44, 5.6, 2.8, 0.9333333333]
        ));
        assert!(close(&factors(Period::DAYS_7), &[13.44, 3.5, 1.4, 0.98]));
    }

    #[test]
    fn sli_windows_cover_every_alert_window_and_the_period() {
        let names: Vec<_> = Period::DAYS_28
            .sli_windows()
            .into_iter()
            .map(format_duration)
            .collect();
        assert_eq!(names, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "4w"]);
    }

    #[test]
    fn periods_parse_and_unsupported_ones_are_refused() {
        assert_eq!("30d".parse::<Period>().unwrap(), Period::DAYS_30);
        assert_eq!("4w".parse::<Period>().unwrap(), Period::DAYS_28);
        assert_eq!("7d".parse::<Period>().unwrap(), Period::DAYS_7);
        let error = "14d".parse::<Period>().unwrap_err().to_string();
        assert!(error.contains("30d, 28d"), "{error}");
    }
}
