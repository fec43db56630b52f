//! `configuration`, `secrets` and `${name}` substitution, as the Chaos
//! Toolkit does them, plus one extension.
//!
//! - A `configuration` or `secrets` entry is a value, or an `env` entry
//!   `{type: env, key: NAME, default: ..., env_var_type: int}` read from the
//!   environment. `--var` and `--var-file` override entries.
//! - `${name}` anywhere else takes the configuration's value, then the
//!   secrets' (every scope), then (the extension) the environment's. A string
//!   that is exactly `${name}` takes the value with its type (a number stays
//!   a number), as the Chaos Toolkit's typed template does.
//! - The extension: plain configuration strings take `${ENV}` and
//!   `${ENV:-default}` from the environment. `$${` is a literal `${`.
//!
//! Unlike the Chaos Toolkit, which passes an unknown `${name}` on as it is,
//! an unknown name is a problem: it is nearly always a typo.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::vars::{convert, text_of, Vars};
use crate::Problem;

/// Substitutes in place; returns what could not be substituted.
pub(super) fn substitute(document: &mut Value, vars: &Vars) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(mapping) = document.as_mapping_mut() else {
        return problems;
    };
    let mut names = BTreeMap::new();
    let mut declared = Vec::new();
    if let Some(config) = mapping.get_mut("configuration").filter(|c| !c.is_null()) {
        match config.as_mapping_mut() {
            Some(config) => {
                for (key, value) in config.iter_mut() {
                    let key = text_of(key);
                    let field = format!("configuration.{key}");
                    let given = vars.config_override(&key).unwrap_or(value).clone();
                    match entry(&given, &field, vars, &mut problems) {
                        Some(resolved) => {
                            *value = Value::String(text_of(&resolved));
                            names.insert(key.clone(), resolved);
                        }
                        // Known but broken: its uses are not problems of their own.
                        None => {
                            names.insert(key.clone(), Value::String(String::new()));
                        }
                    }
                    declared.push(key);
                }
                for (key, value) in vars.config_overrides() {
                    if !declared.contains(key) {
                        config.insert(Value::from(key.clone()), Value::from(text_of(value)));
                        names.insert(key.clone(), value.clone());
                    }
                }
            }
            None => problems.push(Problem::new(
                "configuration",
                "`configuration` is a mapping of names to values",
            )),
        }
    } else if vars.config_overrides().next().is_some() {
        let mut config = Mapping::new();
        for (key, value) in vars.config_overrides() {
            config.insert(Value::from(key.clone()), Value::from(text_of(value)));
            names.insert(key.clone(), value.clone());
        }
        mapping.insert("configuration".into(), Value::Mapping(config));
    }
    if let Some(secrets) = mapping.get_mut("secrets").filter(|s| !s.is_null()) {
        resolve_secrets(secrets, vars, &mut names, &mut problems);
    }
    let lookup = |name: &str| {
        names
            .get(name)
            .cloned()
            .or_else(|| vars.get(name).map(Value::from))
    };
    for (key, value) in mapping.iter_mut() {
        let key = text_of(key);
        if key != "configuration" && key != "secrets" {
            walk(value, &key, &mut problems, &lookup);
        }
    }
    problems
}

/// Resolves every scope of `secrets` in place; the secrets' names join the
/// substitution names after the configuration's, which win.
fn resolve_secrets(
    secrets: &mut Value,
    vars: &Vars,
    names: &mut BTreeMap<String, Value>,
    problems: &mut Vec<Problem>,
) {
    let Some(scopes) = secrets.as_mapping_mut() else {
        problems.push(Problem::new(
            "secrets",
            "`secrets` maps scopes to mappings of names to values",
        ));
        return;
    };
    for (scope, keys) in scopes.iter_mut() {
        let scope = text_of(scope);
        let Some(keys) = keys.as_mapping_mut() else {
            problems.push(Problem::new(
                format!("secrets.{scope}"),
                "a secrets scope is a mapping of names to values",
            ));
            continue;
        };
        for (key, value) in keys.iter_mut() {
            let key = text_of(key);
            let field = format!("secrets.{scope}.{key}");
            let given = vars.secret_override(&scope, &key).unwrap_or(value).clone();
            match entry(&given, &field, vars, problems) {
                Some(resolved) => {
                    *value = Value::String(text_of(&resolved));
                    names.entry(key).or_insert(resolved);
                }
                None => {
                    names.entry(key).or_insert(Value::String(String::new()));
                }
            }
        }
    }
}

/// One configuration or secret entry, resolved.
fn entry(value: &Value, field: &str, vars: &Vars, problems: &mut Vec<Problem>) -> Option<Value> {
    match value {
        Value::String(text) => Some(Value::String(expand(text, field, problems, |name| {
            vars.get(name).map(Value::from)
        }))),
        Value::Number(_) | Value::Bool(_) => Some(value.clone()),
        Value::Mapping(map) => match map.get("type").and_then(Value::as_str) {
            Some("env") => env_entry(map, field, vars, problems),
            Some("probe") => {
                problems.push(Problem::new(
                    field,
                    "a dynamic configuration (a probe) is not supported: give the value, or an \
                     `env` entry",
                ));
                None
            }
            Some("vault") => {
                problems.push(Problem::new(
                    field,
                    "Vault secrets are not supported: give an `env` entry and export the value",
                ));
                None
            }
            _ => {
                problems.push(Problem::new(field, NOT_AN_ENTRY));
                None
            }
        },
        _ => {
            problems.push(Problem::new(field, NOT_AN_ENTRY));
            None
        }
    }
}

const NOT_AN_ENTRY: &str = "a string, number or boolean, or an `env` entry \
                            ({type: env, key: NAME, default: value})";

fn env_entry(
    map: &Mapping,
    field: &str,
    vars: &Vars,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    const KEYS: [&str; 4] = ["type", "key", "default", "env_var_type"];
    for key in map.keys().map(text_of) {
        if !KEYS.contains(&key.as_str()) {
            problems.push(Problem::new(
                format!("{field}.{key}"),
                format!("an env entry has {}", KEYS.join(", ")),
            ));
        }
    }
    let Some(name) = map.get("key").and_then(Value::as_str) else {
        problems.push(Problem::new(
            format!("{field}.key"),
            "an env entry names its environment variable in `key`",
        ));
        return None;
    };
    let kind = map.get("env_var_type").map(text_of);
    let text = match (vars.get(name), map.get("default")) {
        (Some(text), _) => text.to_owned(),
        (None, Some(default)) if !default.is_string() => return Some(default.clone()),
        (None, Some(default)) => text_of(default),
        (None, None) => {
            problems.push(Problem::new(
                field,
                format!(
                    "the environment variable `{name}` is not set and the entry gives no \
                     `default`"
                ),
            ));
            return None;
        }
    };
    match convert(kind.as_deref(), &text) {
        Ok(value) => Some(value),
        Err(message) => {
            problems.push(Problem::new(format!("{field}.env_var_type"), message));
            None
        }
    }
}

fn walk(
    value: &mut Value,
    path: &str,
    problems: &mut Vec<Problem>,
    lookup: &dyn Fn(&str) -> Option<Value>,
) {
    match value {
        Value::String(text) if text.contains('$') => {
            *value = match whole_reference(text).and_then(lookup) {
                Some(typed) => typed,
                None => Value::String(expand(text, path, problems, lookup)),
            };
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &format!("{path}[{i}]"), problems, lookup);
            }
        }
        Value::Mapping(mapping) => {
            for (key, item) in mapping.iter_mut() {
                let key = text_of(key);
                walk(item, &format!("{path}.{key}"), problems, lookup);
            }
        }
        Value::Tagged(tagged) => walk(&mut tagged.value, path, problems, lookup),
        _ => {}
    }
}

/// `name` when the text is exactly `${name}`.
fn whole_reference(text: &str) -> Option<&str> {
    let name = text.strip_prefix("${")?.strip_suffix('}')?;
    valid_name(name).then_some(name)
}

/// Expands `${NAME}` and `${NAME:-default}` in one string.
fn expand(
    text: &str,
    field: &str,
    problems: &mut Vec<Problem>,
    lookup: impl Fn(&str) -> Option<Value>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(stripped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = stripped;
            continue;
        }
        let Some(body) = after.strip_prefix("${") else {
            out.push('$');
            rest = &after[1..];
            continue;
        };
        let Some(end) = body.find('}') else {
            problems.push(Problem::new(field, format!("unclosed `${{` in `{text}`")));
            return text.to_owned();
        };
        let inner = &body[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        if !valid_name(name) {
            problems.push(Problem::new(
                field,
                format!("`${{{inner}}}`: a variable name is letters, digits and `_`"),
            ));
        } else {
            match lookup(name)
                .map(|v| text_of(&v))
                .or_else(|| default.map(str::to_owned))
            {
                Some(value) => out.push_str(&value),
                None => problems.push(Problem::new(
                    field,
                    format!(
                        "`${{{name}}}` is not set: define it in `configuration`, `secrets` or \
                         the environment, or give a default (`${{{name}:-value}}`)"
                    ),
                )),
            }
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(yaml: &str, vars: &Vars) -> (Value, Vec<Problem>) {
        let mut value: Value = serde_yaml::from_str(yaml).unwrap();
        let problems = substitute(&mut value, vars);
        (value, problems)
    }

    #[test]
    fn configuration_takes_the_environment_and_activities_take_the_configuration() {
        let vars = Vars::none().with("SHOP_URL", "http://127.0.0.1:9000");
        let (value, problems) = run(
            "configuration:\n  shop_url: ${SHOP_URL:-http://127.0.0.1:8080}\n  token: ${TOKEN:-}\n\
             method:\n  - url: ${shop_url}/cart\n    cost: $5 and $${literal}\n",
            &vars,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(value["configuration"]["shop_url"], "http://127.0.0.1:9000");
        assert_eq!(value["configuration"]["token"], "");
        assert_eq!(value["method"][0]["url"], "http://127.0.0.1:9000/cart");
        assert_eq!(value["method"][0]["cost"], "$5 and ${literal}");
    }

    #[test]
    fn an_unset_variable_is_a_problem_naming_its_field() {
        let (_, problems) = run(
            "method:\n  - provider:\n      url: ${nowhere}/x\n",
            &Vars::none(),
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "method[0].provider.url");
        assert!(problems[0].message.contains("`${nowhere}` is not set"));
    }

    #[test]
    fn env_entries_read_the_environment_or_their_default() {
        let vars = Vars::none().with("SHOP_URL", "http://127.0.0.1:9000");
        let (value, problems) = run(
            "configuration:\n  url: {type: env, key: SHOP_URL, default: 'http://x'}\n  \
             wait: {type: env, key: WAIT, default: '2', env_var_type: float}\n\
             secrets:\n  shop:\n    token: {type: env, key: TOKEN, default: s3cret}\n\
             method:\n  - url: ${url}/cart\n    pauses: {after: '${wait}'}\n    \
             headers: {Authorization: 'Bearer ${token}'}\n",
            &vars,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(value["method"][0]["url"], "http://127.0.0.1:9000/cart");
        assert_eq!(value["method"][0]["pauses"]["after"], Value::from(2.0));
        assert_eq!(
            value["method"][0]["headers"]["Authorization"],
            "Bearer s3cret"
        );
        assert_eq!(value["secrets"]["shop"]["token"], "s3cret");
    }

    #[test]
    fn a_missing_environment_variable_without_a_default_names_its_entry() {
        let (_, problems) = run(
            "configuration:\n  url: {type: env, key: NOPE}\n\
             secrets:\n  shop:\n    token: {type: env, key: ALSO_NOPE}\n    v: {type: vault, path: x}\n",
            &Vars::none(),
        );
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["configuration.url", "secrets.shop.token", "secrets.shop.v"]
        );
        assert!(problems[0].message.contains("`NOPE` is not set"));
    }

    #[test]
    fn vars_override_the_configuration_even_an_unset_env_entry() {
        let vars = Vars::none()
            .with_config("url", "http://over")
            .with_config("extra", 3);
        let (value, problems) = run(
            "configuration:\n  url: {type: env, key: NOPE}\nmethod:\n  - url: ${url}\n    n: ${extra}\n",
            &vars,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(value["method"][0]["url"], "http://over");
        assert_eq!(value["method"][0]["n"], Value::from(3));
    }
}
