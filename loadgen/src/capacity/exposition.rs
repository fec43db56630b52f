//! The samples of a `/metrics` page (Prometheus text exposition format), as
//! Prometheus stores them when it scrapes the shop as job `shop`.

use std::collections::BTreeMap;

use alerts::promql;

/// One series' value: its name and labels, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of `text`, each carrying `job="<job>"` as the scrape adds it.
/// Comment lines are skipped; a line that does not parse is an error naming it.
pub fn parse(text: &str, job: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("not a sample line: {line}");
        let (series, rest) = match line.find('{') {
            Some(_) => {
                let end = closing_brace(line).ok_or_else(bad)?;
                (&line[..=end], &line[end + 1..])
            }
            None => line.split_once(' ').ok_or_else(bad)?,
        };
        let value = rest.split_whitespace().next().ok_or_else(bad)?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse::<f64>().map_err(|_| bad())?,
        };
        // A series in exposition text is written as a PromQL selector is,
        // so the alerts crate's selector reader takes its labels apart.
        let selector = promql::selectors(series)
            .map_err(|e| format!("{e}: {line}"))?
            .into_iter()
            .next()
            .ok_or_else(bad)?;
        let mut labels: BTreeMap<String, String> = selector
            .matchers
            .into_iter()
            .map(|m| (m.label, m.value))
            .collect();
        labels.insert("job".into(), job.into());
        samples.push(Sample {
            name: selector.metric,
            labels,
            value,
        });
    }
    Ok(samples)
}

/// The index of the `}` that closes the label set, skipping quoted values.
fn closing_brace(line: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '}' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_carry_their_labels_and_the_scrape_job() {
        let text = "# HELP x y\n# TYPE h histogram\n\
            h_bucket{http_route=\"/a {b}\",le=\"0.25\"} 7\n\
            h_count{http_route=\"/a {b}\"} 9 1700000000\n\
            process_cpu_seconds_total 1.5\n";
        let samples = parse(text, "shop").unwrap();
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].name, "h_bucket");
        assert_eq!(samples[0].labels["le"], "0.25");
        assert_eq!(samples[0].labels["http_route"], "/a {b}");
        assert_eq!(samples[1].value, 9.0);
        assert_eq!(samples[2].labels["job"], "shop");
        assert_eq!(samples[2].value, 1.5);
    }

    #[test]
    fn a_line_that_is_not_a_sample_is_named() {
        let error = parse("h_count{a=\"b\"} many\n", "shop").unwrap_err();
        assert!(error.contains("h_count{a=\"b\"} many"), "{error}");
    }
}
