//! An Alertmanager configuration, loaded as it ships and adjusted for one
//! machine: its receivers sent to local webhooks, its waits shortened.

use std::{path::Path, time::Duration};

use serde_yaml::{Mapping, Value};

use super::{Error, Result};

/// An `alertmanager.yml`: routing, receivers and inhibition rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    origin: String,
    yaml: Mapping,
}

impl Config {
    /// Reads a configuration file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Io(format!("reading {}", path.display()), e))?;
        Config::from_yaml(&text, &path.display().to_string())
    }

    /// Parses a configuration; `origin` names it in errors. Only its shape is
    /// checked here (a `route` and `receivers`): Alertmanager itself judges the
    /// rest when it starts.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Config> {
        let invalid = |message: String| Error::Config {
            origin: origin.to_owned(),
            message,
        };
        let yaml: Mapping = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if !yaml.get("route").is_some_and(Value::is_mapping) {
            return Err(invalid("no `route` mapping".into()));
        }
        if !yaml.get("receivers").is_some_and(Value::is_sequence) {
            return Err(invalid("no `receivers` list".into()));
        }
        Ok(Config {
            origin: origin.to_owned(),
            yaml,
        })
    }

    /// The receivers' names, in file order.
    pub fn receiver_names(&self) -> Vec<String> {
        self.receivers()
            .iter()
            .filter_map(|r| r.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    /// Each named receiver delivers to the webhook at its URL instead of its
    /// own integrations (PagerDuty, a ticket bridge...), with resolved
    /// notifications unless the shipped integration turned them off. Routes
    /// and inhibition rules stay as they are. A name the configuration does
    /// not have is an error.
    pub fn webhook_receivers<I, N, U>(mut self, receivers: I) -> Result<Config>
    where
        I: IntoIterator<Item = (N, U)>,
        N: AsRef<str>,
        U: AsRef<str>,
    {
        for (name, url) in receivers {
            let name = name.as_ref();
            let known = self.receiver_names();
            let origin = self.origin.clone();
            let receiver = self
                .receivers_mut()
                .iter_mut()
                .filter_map(Value::as_mapping_mut)
                .find(|r| r.get("name").and_then(Value::as_str) == Some(name))
                .ok_or_else(|| Error::Config {
                    origin,
                    message: format!("no receiver `{name}` (it has: {})", known.join(", ")),
                })?;
            let send_resolved = !receiver.iter().any(|(key, configs)| {
                key.as_str().is_some_and(|k| k.ends_with("_configs"))
                    && configs.as_sequence().is_some_and(|list| {
                        list.iter()
                            .any(|c| c.get("send_resolved") == Some(&Value::Bool(false)))
                    })
            });
            let mut webhook = Mapping::new();
            webhook.insert("url".into(), url.as_ref().into());
            webhook.insert("send_resolved".into(), send_resolved.into());
            receiver.clear();
            receiver.insert("name".into(), name.into());
            receiver.insert(
                "webhook_configs".into(),
                Value::Sequence(vec![Value::Mapping(webhook)]),
            );
        }
        Ok(self)
    }

    /// Sets `group_wait`, `group_interval` and `repeat_interval` on the root
    /// route and wherever a child route sets its own, so that a test sees in
    /// seconds what the shipped configuration does in minutes.
    pub fn timing(
        mut self,
        group_wait: Duration,
        group_interval: Duration,
        repeat_interval: Duration,
    ) -> Config {
        let settings = [
            ("group_wait", group_wait),
            ("group_interval", group_interval),
            ("repeat_interval", repeat_interval),
        ];
        if let Some(route) = self.yaml.get_mut("route").and_then(Value::as_mapping_mut) {
            retime(route, &settings, true);
        }
        self
    }

    /// The configuration as Alertmanager reads it.
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(&self.yaml).expect("a YAML mapping serialises")
    }

    fn receivers(&self) -> &[Value] {
        self.yaml
            .get("receivers")
            .and_then(Value::as_sequence)
            .map_or(&[], Vec::as_slice)
    }

    fn receivers_mut(&mut self) -> &mut Vec<Value> {
        self.yaml
            .get_mut("receivers")
            .and_then(Value::as_sequence_mut)
            .expect("from_yaml checked that receivers is a list")
    }
}

fn retime(route: &mut Mapping, settings: &[(&str, Duration)], root: bool) {
    for (key, value) in settings {
        if root || route.contains_key(*key) {
            route.insert(
                (*key).into(),
                format!("{}ms", value.as_millis().max(1)).into(),
            );
        }
    }
    if let Some(children) = route.get_mut("routes").and_then(Value::as_sequence_mut) {
        for child in children.iter_mut().filter_map(Value::as_mapping_mut) {
            retime(child, settings, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = r#"
route:
  receiver: tickets
  group_wait: 30s
  routes:
    - matchers: ['severity="page"']
      receiver: pager
      group_wait: 10s
      repeat_interval: 1h
receivers:
  - name: pager
    pagerduty_configs:
      - routing_key_file: /secret
  - name: tickets
    webhook_configs:
      - url: http://bridge/
        send_resolved: false
"#;

    #[test]
    fn receivers_become_webhooks_and_keep_their_resolved_setting() {
        let config = Config::from_yaml(SHIPPED, "test")
            .unwrap()
            .webhook_receivers([
                ("pager", "http://127.0.0.1:1/p"),
                ("tickets", "http://127.0.0.1:1/t"),
            ])
            .unwrap();
        let yaml: Value = serde_yaml::from_str(&config.to_yaml()).unwrap();
        let pager = &yaml["receivers"][0];
        assert_eq!(pager["webhook_configs"][0]["url"], "http://127.0.0.1:1/p");
        assert_eq!(pager["webhook_configs"][0]["send_resolved"], true);
        assert!(pager.get("pagerduty_configs").is_none());
        assert_eq!(
            yaml["receivers"][1]["webhook_configs"][0]["send_resolved"],
            false
        );
        assert_eq!(yaml["route"]["routes"][0]["receiver"], "pager");
    }

    #[test]
    fn an_unknown_receiver_is_named_with_the_known_ones() {
        let error = Config::from_yaml(SHIPPED, "test")
            .unwrap()
            .webhook_receivers([("oncall", "http://127.0.0.1:1/")])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "test: not an Alertmanager configuration: no receiver `oncall` (it has: pager, tickets)"
        );
    }

    #[test]
    fn timing_shortens_the_root_and_the_routes_that_set_their_own() {
        let second = Duration::from_secs(1);
        let config =
            Config::from_yaml(SHIPPED, "test")
                .unwrap()
                .timing(second, 2 * second, 3 * second);
        let yaml: Value = serde_yaml::from_str(&config.to_yaml()).unwrap();
        assert_eq!(yaml["route"]["group_wait"], "1000ms");
        assert_eq!(yaml["route"]["group_interval"], "2000ms");
        assert_eq!(yaml["route"]["routes"][0]["group_wait"], "1000ms");
        assert_eq!(yaml["route"]["routes"][0]["repeat_interval"], "3000ms");
        assert!(yaml["route"]["routes"][0].get("group_interval").is_none());
    }

    #[test]
    fn a_file_without_a_route_is_refused() {
        let error = Config::from_yaml("receivers: []\n", "am.yml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "am.yml: not an Alertmanager configuration: no `route` mapping"
        );
    }
}
