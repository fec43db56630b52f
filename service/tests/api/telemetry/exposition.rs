//! The Prometheus text exposition format, read strictly enough for the
//! contract tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use shop::contract::metrics::{MetricKind, MetricSpec};

#[derive(Debug)]
pub(super) struct Sample {
    pub(super) name: String,
    pub(super) labels: BTreeMap<String, String>,
    pub(super) value: f64,
}

/// The text exposition format, read strictly enough for these tests.
pub(super) struct Exposition {
    pub(super) types: HashMap<String, String>,
    pub(super) samples: Vec<Sample>,
}

impl Exposition {
    pub(super) fn parse(text: &str) -> Exposition {
        let mut types = HashMap::new();
        let mut samples = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            samples.push(parse_sample(line));
        }
        Exposition { types, samples }
    }

    /// The samples of a contract metric (a histogram's `_bucket`, `_sum`
    /// and `_count`).
    pub(super) fn family(&self, spec: &MetricSpec) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| match spec.kind {
                MetricKind::Histogram => s
                    .name
                    .strip_prefix(spec.name)
                    .is_some_and(|suffix| ["_bucket", "_sum", "_count"].contains(&suffix)),
                _ => s.name == spec.name,
            })
            .collect()
    }

    /// The values a label takes across a metric's samples.
    pub(super) fn label_values(&self, metric: &str, label: &str) -> BTreeSet<String> {
        self.samples
            .iter()
            .filter(|s| s.name.starts_with(metric))
            .filter_map(|s| s.labels.get(label).cloned())
            .collect()
    }

    /// The value of the sample with exactly these labels.
    pub(super) fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }
}

/// `name{a="x",b="y \"quoted\""} 1.5`
fn parse_sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices();
        loop {
            let key_start = chars.clone().next().map(|(i, _)| i).unwrap_or(body.len());
            let key_end = loop {
                match chars.next() {
                    Some((i, '=')) => break i,
                    Some((i, '}')) => {
                        rest = &body[i + 1..];
                        break usize::MAX;
                    }
                    Some(_) => {}
                    None => panic!("unterminated labels in {line}"),
                }
            };
            if key_end == usize::MAX {
                break;
            }
            let key = body[key_start..key_end].trim_start_matches(',').to_owned();
            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => panic!("bad escape in {line}"),
                    },
                    Some((_, '"')) => break,
                    Some((_, c)) => value.push(c),
                    None => panic!("unterminated value in {line}"),
                }
            }
            labels.insert(key, value);
        }
    }
    let value = rest
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("no value in {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v
            .parse()
            .unwrap_or_else(|e| panic!("bad value {v} in {line}: {e}")),
    };
    Sample {
        name,
        labels,
        value,
    }
}

#[test]
fn the_exposition_parser_reads_labels_escapes_and_specials() {
    let sample = parse_sample(r#"m_bucket{a="x",b="say \"hi\"\n",le="+Inf"} 3"#);
    assert_eq!(sample.name, "m_bucket");
    assert_eq!(sample.labels["a"], "x");
    assert_eq!(sample.labels["b"], "say \"hi\"\n");
    assert_eq!(sample.labels["le"], "+Inf");
    assert_eq!(sample.value, 3.0);
    let bare = parse_sample("process_open_fds 12");
    assert!(bare.labels.is_empty());
    assert_eq!(bare.value, 12.0);
    let empty = parse_sample("m{} NaN");
    assert!(empty.labels.is_empty() && empty.value.is_nan());
}
