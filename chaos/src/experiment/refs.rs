//! `- ref: NAME` in an activity list stands for the activity of that name
//! defined elsewhere in the experiment, as in the Chaos Toolkit.

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::Problem;

/// The activity lists, as paths into the document.
const LISTS: [(&str, Option<&str>); 4] = [
    ("steady-state-hypothesis", Some("probes")),
    ("method", None),
    ("rollbacks", None),
    ("safeguards", Some("probes")),
];

pub(super) fn resolve(document: &mut Value) -> Vec<Problem> {
    let mut named = BTreeMap::new();
    for (section, list) in LISTS {
        if let Some(Value::Sequence(items)) = list_of(document, section, list) {
            for item in items {
                if item.get("ref").is_none() {
                    if let Some(Value::String(name)) = item.get("name") {
                        named.entry(name.clone()).or_insert_with(|| item.clone());
                    }
                }
            }
        }
    }
    let mut problems = Vec::new();
    for (section, list) in LISTS {
        let path = match list {
            Some(list) => format!("{section}.{list}"),
            None => section.to_owned(),
        };
        let Some(Value::Sequence(items)) = list_of_mut(document, section, list) else {
            continue;
        };
        for (i, item) in items.iter_mut().enumerate() {
            let Some(reference) = item.get("ref") else {
                continue;
            };
            let field = format!("{path}[{i}].ref");
            let extra = item.as_mapping().map_or(0, |m| m.len() - 1);
            if extra > 0 {
                problems.push(Problem::new(
                    field,
                    "a `ref` entry has no other fields: it stands for the activity it names",
                ));
                continue;
            }
            match reference.as_str().and_then(|name| named.get(name)) {
                Some(activity) => *item = activity.clone(),
                None => problems.push(Problem::new(
                    field,
                    format!(
                        "no activity is named {}; known: {}",
                        serde_json::to_string(&reference).unwrap_or_default(),
                        named.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
    }
    problems
}

fn list_of<'a>(document: &'a Value, section: &str, list: Option<&str>) -> Option<&'a Value> {
    let section = document.get(section)?;
    match list {
        Some(list) => section.get(list),
        None => Some(section),
    }
}

fn list_of_mut<'a>(
    document: &'a mut Value,
    section: &str,
    list: Option<&str>,
) -> Option<&'a mut Value> {
    let section = document.get_mut(section)?;
    match list {
        Some(list) => section.get_mut(list),
        None => Some(section),
    }
}
