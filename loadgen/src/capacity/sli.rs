//! Each objective of `slo.yaml` judged over one step, as its recording rule
//! `slo:sli_error:ratio_rate<window>` computes it: the SLI's `error_query`
//! over its `total_query`, evaluated here on the increase of the replica's
//! counters between a scrape before and a scrape after the step.
//!
//! The queries are the spec's own text. Their shape is the one the shipped
//! SLIs use: sums of `rate()` of counters, `+`, `-`, parentheses and
//! `or vector(0)`. `rate(x[w])` is `increase(x[w]) / w` and every term of a
//! ratio shares `w`, so the ratio of increases is the ratio of rates.

use std::collections::{BTreeMap, HashMap};

use alerts::promql::{self, Selector};
use alerts::spec::SloSpec;
use serde::{Deserialize, Serialize};

use super::exposition::Sample;

/// One objective's verdict for a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub slo: String,
    pub objective_percent: f64,
    /// Events (`total_query`) and bad events (`error_query`) in the step.
    pub events: f64,
    pub bad_events: f64,
    /// `bad_events / events`; `None` when the step had no such events.
    pub bad_ratio: Option<f64>,
    /// The error budget: `1 - objective / 100`.
    pub budget_ratio: f64,
    pub held: bool,
}

impl Verdict {
    pub fn explain(&self) -> String {
        match self.bad_ratio {
            Some(ratio) => format!(
                "{}: {:.3} % bad events ({} of {}) against a budget of {:.3} %",
                self.slo,
                ratio * 100.0,
                self.bad_events,
                self.events,
                self.budget_ratio * 100.0
            ),
            None => format!("{}: no events", self.slo),
        }
    }
}

/// The increase of every series between two scrapes; a counter that went
/// down was reset (a restart), and its increase is its value after.
pub fn increase(before: &[Sample], after: &[Sample]) -> Vec<Sample> {
    let key = |s: &Sample| (s.name.clone(), s.labels.clone());
    let earlier: HashMap<(String, BTreeMap<String, String>), f64> =
        before.iter().map(|s| (key(s), s.value)).collect();
    after
        .iter()
        .map(|s| {
            let was = earlier.get(&key(s)).copied().unwrap_or(0.0);
            let grew = if s.value >= was {
                s.value - was
            } else {
                s.value
            };
            Sample {
                value: grew,
                ..s.clone()
            }
        })
        .collect()
}

/// Every objective of `spec` with an events SLI, judged on `increase`.
/// An objective with no events in the step holds: nothing was bad.
pub fn judge(spec: &SloSpec, increase: &[Sample]) -> Result<Vec<Verdict>, String> {
    let mut verdicts = Vec::new();
    for slo in &spec.slos {
        let Some(events) = &slo.sli.events else {
            return Err(format!(
                "SLO {}: only `events` SLIs can be judged from scrapes",
                slo.name
            ));
        };
        let eval = |query: &str| {
            evaluate(query, increase).map_err(|e| format!("SLO {}: {e} in `{query}`", slo.name))
        };
        let bad = eval(&events.error_query)?;
        let total = eval(&events.total_query)?;
        let budget = nine_places(1.0 - slo.objective / 100.0);
        let ratio = match (bad, total) {
            (Some(bad), Some(total)) if total > 0.0 => Some(nine_places(bad / total)),
            _ => None,
        };
        verdicts.push(Verdict {
            slo: slo.name.clone(),
            objective_percent: slo.objective,
            events: total.unwrap_or(0.0),
            bad_events: bad.unwrap_or(0.0),
            bad_ratio: ratio,
            budget_ratio: budget,
            held: ratio.is_none_or(|r| r <= budget),
        });
    }
    Ok(verdicts)
}

/// Ratios to nine decimal places: `1 - 99.9 / 100` is 0.001, not
/// 0.00099999999999989, and the file reads back as written.
fn nine_places(ratio: f64) -> f64 {
    (ratio * 1e9).round() / 1e9
}

/// The value of `query` on `samples`; `None` is PromQL's empty result.
pub fn evaluate(query: &str, samples: &[Sample]) -> Result<Option<f64>, String> {
    let mut parser = Parser {
        text: query,
        at: 0,
        samples,
    };
    let value = parser.expr()?;
    parser.space();
    if parser.at < query.len() {
        return Err(format!("unexpected `{}`", &query[parser.at..]));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    samples: &'a [Sample],
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, word: &str) -> bool {
        self.space();
        if self.rest().starts_with(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, word: &str) -> Result<(), String> {
        if self.eat(word) {
            Ok(())
        } else {
            Err(format!("expected `{word}` at `{}`", self.rest()))
        }
    }

    fn expr(&mut self) -> Result<Option<f64>, String> {
        let mut value = self.term()?;
        loop {
            let sign = if self.eat("+") {
                1.0
            } else if self.eat("-") {
                -1.0
            } else {
                return Ok(value);
            };
            let right = self.term()?;
            value = value.zip(right).map(|(a, b)| a + sign * b);
        }
    }

    fn term(&mut self) -> Result<Option<f64>, String> {
        let value = if self.eat("(") {
            let inner = self.expr()?;
            self.expect(")")?;
            inner
        } else if self.eat("vector(") {
            let value = self.number()?;
            self.expect(")")?;
            Some(value)
        } else {
            self.expect("sum(")?;
            self.expect("rate(")?;
            let selector = self.selector()?;
            self.expect(")")?;
            self.expect(")")?;
            self.sum(&selector)
        };
        if self.eat("or ") {
            let fallback = self.term()?;
            return Ok(value.or(fallback));
        }
        Ok(value)
    }

    fn number(&mut self) -> Result<f64, String> {
        self.space();
        let end = self
            .rest()
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(self.rest().len());
        let number = self.rest()[..end]
            .parse()
            .map_err(|_| "expected a number")?;
        self.at += end;
        Ok(number)
    }

    /// `metric{...}[range]`: the selector, with the range skipped.
    fn selector(&mut self) -> Result<Selector, String> {
        self.space();
        let mut quoted = false;
        let end = self
            .rest()
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                c == '[' && !quoted
            })
            .map(|(i, _)| i)
            .ok_or("expected a range `[...]` after the selector")?;
        let selector = promql::selectors(&self.rest()[..end])?
            .into_iter()
            .next()
            .ok_or("expected a selector")?;
        self.at += end;
        let close = self.rest().find(']').ok_or("unclosed range")?;
        self.at += close + 1;
        Ok(selector)
    }

    fn sum(&self, selector: &Selector) -> Option<f64> {
        let matching: Vec<f64> = self
            .samples
            .iter()
            .filter(|s| {
                s.name == selector.metric
                    && selector
                        .matchers
                        .iter()
                        .all(|m| m.matches(s.labels.get(&m.label).map_or("", String::as_str)))
            })
            .map(|s| s.value)
            .collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }
}
