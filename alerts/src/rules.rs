//! Prometheus rule files: the model and its YAML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A rule file: what `rule_files` in prometheus.yml loads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

/// Rules evaluated together, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleGroup {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    pub rules: Vec<Rule>,
}

/// A recording rule (`record`) or an alerting rule (`alert`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub expr: String,
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    /// A recording rule.
    pub fn record(name: impl Into<String>, expr: impl Into<String>) -> Rule {
        Rule {
            record: Some(name.into()),
            expr: expr.into(),
            ..Rule::default()
        }
    }

    /// An alerting rule.
    pub fn alert(name: impl Into<String>, expr: impl Into<String>) -> Rule {
        Rule {
            alert: Some(name.into()),
            expr: expr.into(),
            ..Rule::default()
        }
    }

    pub fn labels<K: Into<String>, V: Into<String>>(
        mut self,
        labels: impl IntoIterator<Item = (K, V)>,
    ) -> Rule {
        self.labels
            .extend(labels.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    pub fn annotations<K: Into<String>, V: Into<String>>(
        mut self,
        annotations: impl IntoIterator<Item = (K, V)>,
    ) -> Rule {
        self.annotations
            .extend(annotations.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    pub fn for_(mut self, duration: Option<String>) -> Rule {
        self.for_ = duration;
        self
    }
}

impl RuleFile {
    /// The file's YAML, after a comment header (each line prefixed with `# `).
    pub fn to_yaml(&self, header: &str) -> Result<String> {
        let body = serde_yaml::to_string(self).map_err(Error::Serialize)?;
        let mut out = String::new();
        for line in header.lines() {
            out.push_str(if line.is_empty() { "#" } else { "# " });
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&body);
        Ok(out)
    }

    /// Parses a rule file.
    pub fn from_yaml(yaml: &str) -> Result<RuleFile, serde_yaml::Error> {
        serde_yaml::from_str(yaml)
    }

    /// Every alerting rule, in file order.
    pub fn alerts(&self) -> impl Iterator<Item = &Rule> {
        self.groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter(|r| r.alert.is_some())
    }

    /// Every recording rule, in file order.
    pub fn recordings(&self) -> impl Iterator<Item = &Rule> {
        self.groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter(|r| r.record.is_some())
    }
}
