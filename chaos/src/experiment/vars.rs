//! `${VAR}` substitution. Values of `configuration` take `${ENV}` and
//! `${ENV:-default}` from the environment; every other string of the
//! experiment takes `${key}` from the configuration first, then from the
//! environment. `$${` is a literal `${`.

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::Problem;

/// Where `${VAR}` values come from: the process environment for the CLI, a
/// map for tests and tools.
#[derive(Debug, Clone, Default)]
pub struct Vars(BTreeMap<String, String>);

impl Vars {
    /// A snapshot of the process environment.
    pub fn from_env() -> Vars {
        Vars(std::env::vars().collect())
    }

    /// No variables at all: only defaults (`${X:-default}`) resolve.
    pub fn none() -> Vars {
        Vars::default()
    }

    /// Sets (or overrides) one variable.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Vars {
        self.0.insert(name.into(), value.into());
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Vars {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Vars(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Substitutes in place; returns what could not be substituted.
pub(super) fn substitute(document: &mut Value, vars: &Vars) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut configuration = BTreeMap::new();
    let Some(mapping) = document.as_mapping_mut() else {
        return problems;
    };
    if let Some(config) = mapping.get_mut("configuration").filter(|c| !c.is_null()) {
        match config.as_mapping_mut() {
            Some(config) => {
                for (key, value) in config.iter_mut() {
                    let key = scalar(key).unwrap_or_default();
                    let field = format!("configuration.{key}");
                    let Some(text) = scalar(value) else {
                        problems.push(Problem::new(
                            field,
                            "a configuration value is a string, number or boolean",
                        ));
                        continue;
                    };
                    let resolved = expand(&text, &field, &mut problems, |name| {
                        vars.get(name).map(str::to_owned)
                    });
                    *value = Value::String(resolved.clone());
                    configuration.insert(key, resolved);
                }
            }
            None => problems.push(Problem::new(
                "configuration",
                "`configuration` is a mapping of names to values",
            )),
        }
    }
    let lookup = |name: &str| {
        configuration
            .get(name)
            .cloned()
            .or_else(|| vars.get(name).map(str::to_owned))
    };
    for (key, value) in mapping.iter_mut() {
        let key = scalar(key).unwrap_or_default();
        if key != "configuration" {
            walk(value, &key, &mut problems, &lookup);
        }
    }
    problems
}

fn walk(
    value: &mut Value,
    path: &str,
    problems: &mut Vec<Problem>,
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    match value {
        Value::String(text) if text.contains('$') => {
            *text = expand(text, path, problems, lookup);
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &format!("{path}[{i}]"), problems, lookup);
            }
        }
        Value::Mapping(mapping) => {
            for (key, item) in mapping.iter_mut() {
                let key = scalar(key).unwrap_or_default();
                walk(item, &format!("{path}.{key}"), problems, lookup);
            }
        }
        Value::Tagged(tagged) => walk(&mut tagged.value, path, problems, lookup),
        _ => {}
    }
}

/// Expands `${NAME}` and `${NAME:-default}` in one string.
fn expand(
    text: &str,
    field: &str,
    problems: &mut Vec<Problem>,
    lookup: impl Fn(&str) -> Option<String>,
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
            match lookup(name).or_else(|| default.map(str::to_owned)) {
                Some(value) => out.push_str(&value),
                None => problems.push(Problem::new(
                    field,
                    format!(
                        "`${{{name}}}` is not set: define it in `configuration` or the \
                         environment, or give a default (`${{{name}:-value}}`)"
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

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
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
    fn defaults_apply_only_when_unset() {
        let vars = Vars::none().with("A", "set");
        let (value, _) = run(
            "configuration:\n  a: ${A:-default}\n  b: ${B:-default}\n",
            &vars,
        );
        assert_eq!(value["configuration"]["a"], "set");
        assert_eq!(value["configuration"]["b"], "default");
    }
}
