//! Just enough PromQL for this crate: the series selectors of a query (to check
//! metric names against the contract and to read a latency threshold or a
//! route filter out of an SLI), Prometheus durations, and Go's float format.

use std::{fmt, time::Duration};

use regex::Regex;

use crate::{Error, Result};

/// A series selector: `metric{label="value", ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The metric name; empty for a selector written only with braces.
    pub metric: String,
    pub matchers: Vec<Matcher>,
}

impl Selector {
    /// The matchers on `label`.
    pub fn matchers_on<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a Matcher> + 'a {
        self.matchers.iter().filter(move |m| m.label == label)
    }
}

/// One label matcher, such as `http_route!~"/api/.*"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
}

/// `=`, `!=`, `=~` or `!~`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    RegexMatch,
    RegexNoMatch,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }
}

impl Matcher {
    /// Whether a label value passes this matcher, as Prometheus decides it:
    /// regular expressions are anchored at both ends. An invalid regular
    /// expression matches nothing (`alerts check` reports it).
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::RegexMatch => self.regex().is_ok_and(|re| re.is_match(value)),
            MatchOp::RegexNoMatch => self.regex().is_ok_and(|re| !re.is_match(value)),
        }
    }

    /// The anchored regular expression of a `=~` or `!~` matcher.
    pub fn regex(&self) -> Result<Regex, regex::Error> {
        Regex::new(&format!("^(?:{})$", self.value))
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.label, self.op.as_str(), self.value)
    }
}

/// Words that are followed by a label list in parentheses (`by (le)`), not
/// by an expression.
const LABEL_LIST_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
/// Words that are never metric names.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "atan2",
    "inf",
    "nan",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// The series selectors of a query, in order. Function calls, aggregations,
/// label lists and literals are skipped; a `{{.window}}` template must have
/// been rendered first.
pub fn selectors(query: &str) -> Result<Vec<Selector>, String> {
    let chars: Vec<char> = query.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = read_string(&chars, i)?.1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '[' {
            // A range or subquery: `[5m]`, `[1h:1m]`.
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            i += 1;
        } else if c == '{' {
            let (matchers, next) = read_matchers(&chars, i)?;
            found.push(Selector {
                metric: String::new(),
                matchers,
            });
            i = next;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number or a duration, including `1e-3` and `0x1f`.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = skip_space(&chars, i);
            if LABEL_LIST_KEYWORDS.contains(&word.as_str()) {
                if chars.get(next) == Some(&'(') {
                    i = skip_to(&chars, next, ')')? + 1;
                }
            } else if KEYWORDS.contains(&word.as_str()) || chars.get(next) == Some(&'(') {
                // An operator, an aggregation or a function call.
            } else if chars.get(next) == Some(&'{') {
                let (matchers, after) = read_matchers(&chars, next)?;
                found.push(Selector {
                    metric: word,
                    matchers,
                });
                i = after;
            } else {
                found.push(Selector {
                    metric: word,
                    matchers: Vec::new(),
                });
            }
        } else {
            i += 1;
        }
    }
    Ok(found)
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

fn skip_to(chars: &[char], from: usize, end: char) -> Result<usize, String> {
    (from..chars.len())
        .find(|&j| chars[j] == end)
        .ok_or_else(|| format!("missing `{end}`"))
}

/// Reads a quoted string starting at `start`; returns its value and the index
/// after the closing quote.
fn read_string(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let quote = chars[start];
    let mut value = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            c if c == quote => return Ok((value, i + 1)),
            '\\' if quote != '`' => {
                i += 1;
                let escaped = *chars.get(i).ok_or("unterminated string")?;
                value.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
            }
            c => value.push(c),
        }
        i += 1;
    }
    Err(format!("unterminated string starting with {quote}"))
}

/// Reads `{a="b", c!~"d"}` starting at the `{`.
fn read_matchers(chars: &[char], open: usize) -> Result<(Vec<Matcher>, usize), String> {
    let mut matchers = Vec::new();
    let mut i = open + 1;
    loop {
        i = skip_space(chars, i);
        match chars.get(i) {
            Some('}') => return Ok((matchers, i + 1)),
            Some(',') => {
                i += 1;
                continue;
            }
            None => return Err("unterminated label matchers: missing `}`".into()),
            _ => {}
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let label: String = chars[start..i].iter().collect();
        if label.is_empty() {
            return Err(format!("expected a label name at `{}`", rest(chars, start)));
        }
        i = skip_space(chars, i);
        let op = match (chars.get(i), chars.get(i + 1)) {
            (Some('='), Some('~')) => MatchOp::RegexMatch,
            (Some('!'), Some('~')) => MatchOp::RegexNoMatch,
            (Some('!'), Some('=')) => MatchOp::NotEqual,
            (Some('='), _) => MatchOp::Equal,
            _ => return Err(format!("expected =, !=, =~ or !~ after `{label}`")),
        };
        i += if op == MatchOp::Equal { 1 } else { 2 };
        i = skip_space(chars, i);
        if !matches!(chars.get(i), Some('"' | '\'' | '`')) {
            return Err(format!(
                "expected a quoted value after `{label}{}`",
                op.as_str()
            ));
        }
        let (value, next) = read_string(chars, i)?;
        matchers.push(Matcher { label, op, value });
        i = next;
    }
}

fn rest(chars: &[char], from: usize) -> String {
    chars[from..].iter().take(20).collect()
}

const UNITS: &[(&str, u64)] = &[
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// A duration as Prometheus writes it (`model.Duration.String()`): years and
/// weeks only when exact, so 28 days is `4w` and 30 days is `30d`.
pub fn format_duration(duration: Duration) -> String {
    let mut ms = duration.as_millis() as u64;
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for &(unit, size) in UNITS {
        let exact_only = unit == "y" || unit == "w";
        if exact_only && ms % size != 0 {
            continue;
        }
        let count = ms / size;
        if count > 0 {
            out.push_str(&format!("{count}{unit}"));
            ms -= count * size;
        }
    }
    out
}

/// Parses a Prometheus duration such as `5m`, `1h30m` or `4w`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let invalid = || Error::InvalidDuration(text.to_owned());
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0u64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let count: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let size = UNITS
            .iter()
            .find(|(unit, _)| *unit == &rest[..unit_len])
            .map(|(_, size)| *size)
            .ok_or_else(invalid)?;
        total = count
            .checked_mul(size)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(invalid)?;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_millis(total))
}

/// A float as Go's `%g`/`%v` writes it (shortest round-trip digits, exponent
/// form below 1e-4 and from 1e6), so that generated thresholds read exactly
/// as Sloth's.
pub fn go_float(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an integer exponent");
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_skip_functions_label_lists_and_strings() {
        let query = r#"sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{job="shop",le="0.25", http_route!~"/api/.*|x\"y"}[5m])) / ignoring (sloth_window) up or vector(0)"#;
        let found = selectors(query).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].metric,
            "http_server_request_duration_seconds_bucket"
        );
        assert_eq!(
            found[0].matchers,
            vec![
                Matcher {
                    label: "job".into(),
                    op: MatchOp::Equal,
                    value: "shop".into()
                },
                Matcher {
                    label: "le".into(),
                    op: MatchOp::Equal,
                    value: "0.25".into()
                },
                Matcher {
                    label: "http_route".into(),
                    op: MatchOp::RegexNoMatch,
                    value: "/api/.*|x\"y".into()
                },
            ]
        );
        assert_eq!(found[1].metric, "up");
    }

    #[test]
    fn a_broken_selector_is_an_error() {
        assert!(selectors(r#"foo{job="shop""#).is_err());
        assert!(selectors(r#"foo{job~"shop"}"#).is_err());
        assert!(selectors(r#"foo{job=shop}"#).is_err());
    }

    #[test]
    fn regex_matchers_are_anchored_like_prometheus() {
        let pages = Matcher {
            label: "http_route".into(),
            op: MatchOp::RegexNoMatch,
            value: "/api/.*|/static/.*".into(),
        };
        assert!(pages.matches("/product/{slug}"));
        assert!(pages.matches("/"));
        assert!(!pages.matches("/api/v1/orders"));
        // Anchored: a route that merely contains /api/ is still a page.
        assert!(pages.matches("/docs/api/x"));
    }

    #[test]
    fn durations_are_written_like_prometheus() {
        let day = 24 * 3600;
        assert_eq!(format_duration(Duration::from_secs(30 * day)), "30d");
        assert_eq!(format_duration(Duration::from_secs(28 * day)), "4w");
        assert_eq!(format_duration(Duration::from_secs(7 * day)), "1w");
        assert_eq!(format_duration(Duration::from_secs(3 * day)), "3d");
        assert_eq!(format_duration(Duration::from_secs(300)), "5m");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    }

    #[test]
    fn durations_parse_and_round_trip() {
        for text in [
            "5m", "30m", "1h", "2h", "6h", "1d", "3d", "4w", "30d", "1h30m", "1m30s",
        ] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
        for bad in ["", "5", "m", "5x", "-5m", "5m3"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn floats_are_written_like_go() {
        assert_eq!(go_float(0.999), "0.999");
        assert_eq!(go_float(99.9 / 100.0), "0.9990000000000001");
        assert_eq!(go_float((100.0 - 99.9) / 100.0), "0.0009999999999999432");
        assert_eq!(go_float(14.4), "14.4");
        assert_eq!(go_float(30.0), "30");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(1_000_000.0), "1e+06");
        assert_eq!(go_float(123_456.0), "123456");
    }
}
