//! Where `${VAR}` values and configuration overrides come from: the process
//! environment, and the Chaos Toolkit's `--var key[:type]=value` and
//! `--var-file` (a JSON or YAML file with `configuration` and `secrets`, or a
//! `.env` file of environment variables).

use std::{collections::BTreeMap, path::Path};

use serde_yaml::Value;

/// The environment and the overrides an experiment is loaded with.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    env: BTreeMap<String, String>,
    configuration: BTreeMap<String, Value>,
    secrets: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Vars {
    /// A snapshot of the process environment.
    pub fn from_env() -> Vars {
        Vars {
            env: std::env::vars().collect(),
            ..Vars::default()
        }
    }

    /// No variables at all: only defaults (`${X:-default}`) resolve.
    pub fn none() -> Vars {
        Vars::default()
    }

    /// Sets (or overrides) one environment variable.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Vars {
        self.env.insert(name.into(), value.into());
        self
    }

    /// An environment variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// Overrides a configuration entry, as `--var key=value` does.
    pub fn with_config(mut self, key: impl Into<String>, value: impl Into<Value>) -> Vars {
        self.configuration.insert(key.into(), value.into());
        self
    }

    pub(super) fn config_override(&self, key: &str) -> Option<&Value> {
        self.configuration.get(key)
    }

    pub(super) fn config_overrides(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.configuration.iter()
    }

    pub(super) fn secret_override(&self, scope: &str, key: &str) -> Option<&Value> {
        self.secrets.get(scope).and_then(|s| s.get(key))
    }

    /// Applies one `--var key[:type]=value` (type: str, int, float, bool, json).
    pub fn with_var(self, spec: &str) -> Result<Vars, String> {
        let (key, text) = spec
            .split_once('=')
            .ok_or_else(|| format!("--var {spec}: the form is key=value or key:type=value"))?;
        let (key, kind) = match key.rsplit_once(':') {
            Some((key, kind)) => (key, Some(kind)),
            None => (key, None),
        };
        if key.is_empty() {
            return Err(format!("--var {spec}: the key is empty"));
        }
        let value = convert(kind, text).map_err(|e| format!("--var {spec}: {e}"))?;
        Ok(self.with_config(key, value))
    }

    /// Applies one `--var-file`: JSON or YAML with `configuration` and
    /// `secrets` mappings (by extension), or else a `.env` file whose
    /// `NAME=value` lines become environment variables.
    pub fn with_var_file(mut self, path: &Path) -> Result<Vars, String> {
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let structured = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "json" | "yaml" | "yml"));
        if !structured {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (name, value) = line
                    .split_once('=')
                    .ok_or_else(|| format!("{shown}, line {}: a .env line is NAME=value", n + 1))?;
                self.env.insert(name.trim().to_owned(), value.to_owned());
            }
            return Ok(self);
        }
        let document: Value =
            serde_yaml::from_str(&text).map_err(|e| format!("{shown} is not JSON or YAML: {e}"))?;
        let section = |name: &str| -> Result<Option<serde_yaml::Mapping>, String> {
            match document.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Mapping(m)) => Ok(Some(m.clone())),
                Some(_) => Err(format!("{shown}: `{name}` is a mapping")),
            }
        };
        for (key, value) in section("configuration")?.unwrap_or_default() {
            self.configuration.insert(text_of(&key), value);
        }
        for (scope, keys) in section("secrets")?.unwrap_or_default() {
            let Value::Mapping(keys) = keys else {
                return Err(format!(
                    "{shown}: `secrets.{}` is a mapping",
                    text_of(&scope)
                ));
            };
            let scope = self.secrets.entry(text_of(&scope)).or_default();
            for (key, value) in keys {
                scope.insert(text_of(&key), value);
            }
        }
        Ok(self)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Vars {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Vars {
            env: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Vars::default()
        }
    }
}

/// A text value converted as the Chaos Toolkit's `env_var_type` and
/// `--var key:type=value` do.
pub(super) fn convert(kind: Option<&str>, text: &str) -> Result<Value, String> {
    match kind {
        None | Some("str" | "string" | "bytes") => Ok(Value::String(text.to_owned())),
        Some("int" | "integer") => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not an integer")),
        Some("float" | "number") => text
            .trim()
            .parse::<f64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not a number")),
        Some("bool") => Ok(Value::Bool(!matches!(
            text.to_lowercase().as_str(),
            "false" | "0" | "no"
        ))),
        Some("json") => serde_yaml::from_str(text).map_err(|e| format!("not JSON: {e}")),
        Some(other) => Err(format!(
            "unknown type `{other}`; known: str, int, float, bool, bytes, json"
        )),
    }
}

/// A value as text: strings as they are, numbers and booleans printed,
/// anything else as JSON.
pub(super) fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_take_a_type_after_a_colon() {
        let vars = Vars::none()
            .with_var("port:int=8080")
            .unwrap()
            .with_var("url=http://x:1/a=b")
            .unwrap();
        assert_eq!(vars.config_override("port"), Some(&Value::from(8080)));
        assert_eq!(
            vars.config_override("url"),
            Some(&Value::from("http://x:1/a=b"))
        );
        assert!(Vars::none().with_var("novalue").is_err());
        assert!(Vars::none().with_var("n:int=many").is_err());
    }

    #[test]
    fn var_files_are_structured_or_dotenv() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("vars.yaml");
        std::fs::write(
            &yaml,
            "configuration:\n  shop_url: http://a\nsecrets:\n  shop:\n    token: t\n",
        )
        .unwrap();
        let env = dir.path().join("vars.env");
        std::fs::write(&env, "# comment\nSHOP_URL=http://b\n").unwrap();
        let vars = Vars::none()
            .with_var_file(&yaml)
            .unwrap()
            .with_var_file(&env)
            .unwrap();
        assert_eq!(
            vars.config_override("shop_url"),
            Some(&Value::from("http://a"))
        );
        assert_eq!(
            vars.secret_override("shop", "token"),
            Some(&Value::from("t"))
        );
        assert_eq!(vars.get("SHOP_URL"), Some("http://b"));
    }
}
