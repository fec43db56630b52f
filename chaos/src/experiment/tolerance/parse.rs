//! The written form of a tolerance: parsing and printing it.

use regex::Regex;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};
use serde_json_path::JsonPath;

use super::{Activity, Tolerance};

impl Tolerance {
    /// Parses the written form (see the module docs).
    pub fn from_value(value: &Value) -> Result<Tolerance, String> {
        match value {
            Value::Null => Err("a tolerance cannot be null".into()),
            Value::Bool(_) | Value::Number(_) | Value::String(_) => {
                Ok(Tolerance::Exact(value.clone()))
            }
            Value::Array(items) => {
                if items.is_empty()
                    || items
                        .iter()
                        .any(|i| i.is_object() || i.is_array() || i.is_null())
                {
                    return Err(
                        "a list tolerance is a non-empty list of values the output may equal"
                            .into(),
                    );
                }
                Ok(Tolerance::OneOf(items.clone()))
            }
            Value::Object(map) => from_map(map),
        }
    }

    pub(super) fn to_value(&self) -> Value {
        let with_target = |mut value: Value, target: &Option<String>| {
            if let Some(target) = target {
                value["target"] = json!(target);
            }
            value
        };
        match self {
            Tolerance::Exact(v) => v.clone(),
            Tolerance::OneOf(v) => Value::from(v.clone()),
            Tolerance::Range { min, max, target } => {
                with_target(json!({"type": "range", "range": [min, max]}), target)
            }
            Tolerance::Regex { pattern, target } => {
                with_target(json!({"type": "regex", "pattern": pattern}), target)
            }
            Tolerance::JsonPath {
                path,
                expect,
                count,
                range,
                pattern,
                target,
            } => {
                let mut value = json!({"type": "jsonpath", "path": path});
                if let Some(expect) = expect {
                    value["expect"] = expect.clone();
                }
                if let Some(count) = count {
                    value["count"] = json!(count);
                }
                if let Some((min, max)) = range {
                    value["range"] = json!([min, max]);
                }
                if let Some(pattern) = pattern {
                    value["pattern"] = json!(pattern);
                }
                with_target(value, target)
            }
            Tolerance::Probe(probe) => {
                let mut value = serde_json::to_value(probe).unwrap_or_default();
                value["type"] = json!("probe");
                value
            }
            Tolerance::All(all) => {
                json!({"type": "all", "of": all.iter().map(Tolerance::to_value).collect::<Vec<_>>()})
            }
        }
    }
}

fn from_map(map: &Map<String, Value>) -> Result<Tolerance, String> {
    let kind = map
        .get("type")
        .and_then(Value::as_str)
        .ok_or("a tolerance mapping needs `type`: range, regex, jsonpath, probe or all")?;
    let allowed: &[&str] = match kind {
        "range" => &["type", "range", "target"],
        "regex" => &["type", "pattern", "target"],
        "jsonpath" => &[
            "type", "path", "expect", "count", "range", "pattern", "target",
        ],
        "all" => &["type", "of"],
        "probe" => {
            let activity: Activity = serde_json::from_value(Value::Object(map.clone()))
                .map_err(|e| format!("a probe tolerance is a probe: {e}"))?;
            return Ok(Tolerance::Probe(Box::new(activity)));
        }
        other => {
            return Err(format!(
                "unknown tolerance type `{other}`, expected range, regex, jsonpath, probe or all"
            ))
        }
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{unknown}` in a {kind} tolerance, expected one of {}",
            allowed.join(", ")
        ));
    }
    let target = match map.get("target") {
        None => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err("`target` is the name of a key of the probe's output".into()),
    };
    let text = |key: &str| -> Result<String, String> {
        match map.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("`{key}` of a {kind} tolerance is a string")),
            None => Err(format!("a {kind} tolerance needs `{key}`")),
        }
    };
    let regex = |pattern: String| -> Result<String, String> {
        Regex::new(&pattern).map_err(|e| format!("`pattern` is not a valid regex: {e}"))?;
        Ok(pattern)
    };
    match kind {
        "range" => {
            let (min, max) = range(
                map.get("range")
                    .ok_or("a range tolerance needs `range: [min, max]`")?,
            )?;
            Ok(Tolerance::Range { min, max, target })
        }
        "regex" => Ok(Tolerance::Regex {
            pattern: regex(text("pattern")?)?,
            target,
        }),
        "jsonpath" => {
            let path = text("path")?;
            JsonPath::parse(&path).map_err(|e| format!("`path` is not a valid JSONPath: {e}"))?;
            let given = ["expect", "count", "range", "pattern"]
                .iter()
                .filter(|k| map.contains_key(**k))
                .count();
            if given > 1 {
                return Err(
                    "a jsonpath tolerance takes at most one of `expect`, `count`, `range`, `pattern`"
                        .into(),
                );
            }
            Ok(Tolerance::JsonPath {
                path,
                expect: map.get("expect").cloned(),
                count: match map.get("count") {
                    None => None,
                    Some(n) => Some(n.as_u64().ok_or("`count` is a number of nodes")?),
                },
                range: map.get("range").map(range).transpose()?,
                pattern: map
                    .get("pattern")
                    .is_some()
                    .then(|| text("pattern"))
                    .transpose()?
                    .map(regex)
                    .transpose()?,
                target,
            })
        }
        _ => {
            let Some(Value::Array(items)) = map.get("of") else {
                return Err("an all tolerance needs `of: [tolerances]`".into());
            };
            if items.is_empty() {
                return Err("`of` of an all tolerance is empty".into());
            }
            let all = items
                .iter()
                .enumerate()
                .map(|(i, item)| Tolerance::from_value(item).map_err(|e| format!("of[{i}]: {e}")))
                .collect::<Result<_, _>>()?;
            Ok(Tolerance::All(all))
        }
    }
}

fn range(value: &Value) -> Result<(Option<f64>, Option<f64>), String> {
    let bound = |v: &Value| match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        _ => Err("a range bound is a number or null (open)".to_owned()),
    };
    match value.as_array().map(Vec::as_slice) {
        Some([min, max]) => {
            let (min, max) = (bound(min)?, bound(max)?);
            if let (Some(lo), Some(hi)) = (min, max) {
                if lo > hi {
                    return Err(format!(
                        "range [{lo}, {hi}] is empty: the lower bound is above the upper"
                    ));
                }
            }
            if min.is_none() && max.is_none() {
                return Err("a range needs at least one bound".into());
            }
            Ok((min, max))
        }
        _ => Err("`range` is a list of two bounds, [min, max]".into()),
    }
}

impl Serialize for Tolerance {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Tolerance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Tolerance::from_value(&value).map_err(de::Error::custom)
    }
}
