//! The generated alert rules, with time compressed for a game day: every
//! range selector (`[5m]`) and every `for:` divided by the scenario's time
//! scale. Expressions, thresholds and names stay as generated, so the alerts
//! that fire are the ones production would fire, only sooner.

use std::{path::Path, sync::LazyLock};

use anyhow::{Context as _, Result};
use regex::{Captures, Regex};
use serde_yaml::Value;

static RANGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[(\d+)(ms|s|m|h|d|w|y)\]").expect("a valid regex"));

/// Seconds in one unit of a Prometheus duration.
fn unit_seconds(unit: &str) -> f64 {
    match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3_600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        _ => 31_536_000.0,
    }
}

/// A Prometheus duration (`5m`, `1h30m` is not used by the generator).
pub fn parse_duration(text: &str) -> Option<f64> {
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(digits);
    let number: f64 = number.parse().ok()?;
    ["ms", "s", "m", "h", "d", "w", "y"]
        .contains(&unit)
        .then(|| number * unit_seconds(unit))
}

/// `seconds` as a Prometheus duration, in whole milliseconds.
fn format_duration(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round().max(1.0) as u64;
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `expr` with every range divided by `scale`.
pub fn compress_expr(expr: &str, scale: u32) -> String {
    RANGE
        .replace_all(expr, |c: &Captures<'_>| {
            let seconds = c[1].parse::<f64>().unwrap_or(0.0) * unit_seconds(&c[2]);
            format!("[{}]", format_duration(seconds / f64::from(scale)))
        })
        .into_owned()
}

/// A rule file's text with time compressed by `scale`.
pub fn compress_rule_file(yaml: &str, scale: u32) -> Result<String> {
    let mut doc: Value = serde_yaml::from_str(yaml).context("parsing a rule file")?;
    let groups = doc
        .get_mut("groups")
        .and_then(Value::as_sequence_mut)
        .context("a rule file has `groups`")?;
    for group in groups {
        let Some(rules) = group.get_mut("rules").and_then(Value::as_sequence_mut) else {
            continue;
        };
        for rule in rules {
            if let Some(Value::String(expr)) = rule.get_mut("expr") {
                *expr = compress_expr(expr, scale);
            }
            if let Some(Value::String(wait)) = rule.get_mut("for") {
                let seconds = parse_duration(wait)
                    .with_context(|| format!("a `for:` of `{wait}` is not a duration"))?;
                *wait = format_duration(seconds / f64::from(scale));
            }
        }
    }
    serde_yaml::to_string(&doc).context("writing a rule file")
}

/// Writes every `*.yaml` of `generated` into `out`, compressed by `scale`,
/// and returns the written paths.
pub fn write_compressed(
    generated: &Path,
    out: &Path,
    scale: u32,
) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = Vec::new();
    let entries = std::fs::read_dir(generated)
        .with_context(|| format!("reading the alert rules in {}", generated.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let compressed =
            compress_rule_file(&text, scale).with_context(|| format!("in {}", path.display()))?;
        let target = out.join(path.file_name().unwrap_or_default());
        std::fs::write(&target, compressed)
            .with_context(|| format!("writing {}", target.display()))?;
        written.push(target);
    }
    anyhow::ensure!(
        !written.is_empty(),
        "no rule files (*.yaml) in {}: run `cargo run -p alerts -- generate` first",
        generated.display()
    );
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_divided_by_the_scale() {
        assert_eq!(
            compress_expr("rate(x[5m]) / rate(y[30d]) > 1", 60),
            "rate(x[5s]) / rate(y[43200s]) > 1"
        );
        assert_eq!(compress_expr("rate(x[5m])", 20), "rate(x[15s])");
        assert_eq!(compress_expr("rate(x[1m])", 120), "rate(x[500ms])");
    }

    #[test]
    fn for_clauses_are_divided_and_the_rest_kept() {
        let yaml = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up[5m] == 0\n    for: 2m\n    labels:\n      severity: page\n";
        let out = compress_rule_file(yaml, 60).unwrap();
        assert!(out.contains("for: 2s"), "{out}");
        assert!(out.contains("up[5s] == 0"), "{out}");
        assert!(out.contains("severity: page"), "{out}");
    }

    #[test]
    fn a_bad_for_clause_is_an_error() {
        let yaml = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: soon\n";
        assert!(compress_rule_file(yaml, 60).is_err());
    }
}
