//! What a Chaos Toolkit experiment may hold that this runner reads but does
//! not act on, set aside with a note before the typed parse; and provider
//! types this runner does not have, one problem each.

use serde_yaml::Value;

use super::Provider;
use crate::Problem;

/// The activity lists, as paths into the document.
const LISTS: [(&str, Option<&str>); 4] = [
    ("steady-state-hypothesis", Some("probes")),
    ("method", None),
    ("rollbacks", None),
    ("safeguards", Some("probes")),
];

/// Removes the ignored fields; returns the notes and the problems.
pub(super) fn set_aside(document: &mut Value) -> (Vec<Problem>, Vec<Problem>) {
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    let Some(mapping) = document.as_mapping_mut() else {
        return (notes, problems);
    };
    if mapping.remove("controls").is_some() {
        notes.push(Problem::new(
            "controls",
            "ignored: Chaos Toolkit controls are Python extensions, which this runner does not \
             load (its safeguards and journal do what the common ones do)",
        ));
    }
    if mapping.remove("extensions").is_some() {
        notes.push(Problem::new("extensions", "ignored"));
    }
    for (section, list) in LISTS {
        let path = match list {
            Some(list) => format!("{section}.{list}"),
            None => section.to_owned(),
        };
        let items = match list {
            Some(list) => mapping.get_mut(section).and_then(|s| s.get_mut(list)),
            None => mapping.get_mut(section),
        };
        let Some(Value::Sequence(items)) = items else {
            continue;
        };
        for (i, item) in items.iter_mut().enumerate() {
            activity(item, &format!("{path}[{i}]"), &mut notes, &mut problems);
        }
    }
    (notes, problems)
}

fn activity(item: &mut Value, path: &str, notes: &mut Vec<Problem>, problems: &mut Vec<Problem>) {
    let Some(fields) = item.as_mapping_mut() else {
        return;
    };
    if fields.remove("controls").is_some() {
        notes.push(Problem::new(
            format!("{path}.controls"),
            "ignored: controls are not run",
        ));
    }
    if let Some(Value::Mapping(provider)) = fields.get_mut("provider") {
        // The Chaos Toolkit hands Python providers the scopes named here;
        // `${name}` here sees every scope, so the list has nothing to add.
        provider.remove("secrets");
        match provider.get("type").and_then(Value::as_str) {
            Some(kind) if !Provider::TYPES.contains(&kind) => problems.push(Problem::new(
                format!("{path}.provider.type"),
                unknown_provider(kind),
            )),
            _ => {}
        }
    }
    if let Some(tolerance) = fields.get_mut("tolerance") {
        if tolerance.get("type").and_then(Value::as_str) == Some("probe") {
            activity(tolerance, &format!("{path}.tolerance"), notes, problems);
        }
    }
}

/// The message for a provider type this runner does not have.
pub(super) fn unknown_provider(kind: &str) -> String {
    if kind == "python" {
        return "a `python` provider calls a function of a Chaos Toolkit extension, which this \
                runner cannot load; use `http` or `process`, or one of this runner's providers: "
            .to_owned()
            + &Provider::TYPES.join(", ");
    }
    format!(
        "unknown provider type `{kind}`; known: {}",
        Provider::TYPES.join(", ")
    )
}
