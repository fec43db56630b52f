//! Checks of the Chaos Toolkit's providers, `http` and `process`.

use super::Check;
use crate::experiment::{HttpRequest, HttpTimeout, ProcessRun};

impl Check<'_> {
    pub(super) fn http(&mut self, path: &str, http: &HttpRequest) {
        self.url(&format!("{path}.url"), &http.url);
        self.method(&format!("{path}.method"), &http.method);
        self.seconds(
            &format!("{path}.timeout_seconds"),
            http.timeout_seconds,
            300.0,
        );
        let bodies = [
            http.body.is_some(),
            http.json.is_some(),
            http.arguments.is_some(),
        ];
        if bodies.iter().filter(|b| **b).count() > 1 {
            self.problem(path, "give one of `body`, `json` and `arguments`");
        }
        match http.timeout {
            Some(HttpTimeout::Total(s)) => self.seconds(&format!("{path}.timeout"), Some(s), 300.0),
            Some(HttpTimeout::ConnectRead(c, r)) => {
                self.seconds(&format!("{path}.timeout[0]"), Some(c), 300.0);
                self.seconds(&format!("{path}.timeout[1]"), Some(r), 300.0);
            }
            None => {}
        }
        if http
            .expected_status
            .is_some_and(|s| !(100..=599).contains(&s))
        {
            self.problem(
                format!("{path}.expected_status"),
                "an HTTP status is 100 to 599",
            );
        }
        if http.max_retries > 10 {
            self.problem(format!("{path}.max_retries"), "0 to 10 retries");
        }
    }

    pub(super) fn process(&mut self, path: &str, process: &ProcessRun) {
        if crate::actions::process::find_program(&process.path).is_none() {
            self.problem(
                format!("{path}.path"),
                format!(
                    "`{}` is not an executable file, nor a program on PATH",
                    process.path
                ),
            );
        }
        match &process.arguments {
            None | Some(serde_json::Value::String(_)) => {}
            Some(serde_json::Value::Array(items))
                if items.iter().all(|i| !i.is_array() && !i.is_object()) => {}
            Some(serde_json::Value::Object(map))
                if map.values().all(|v| !v.is_array() && !v.is_object()) => {}
            Some(_) => self.problem(
                format!("{path}.arguments"),
                "one string (run by the shell), a list of values, or a mapping of \
                 flags to values",
            ),
        }
        self.seconds(&format!("{path}.timeout"), process.timeout, 3600.0);
    }
}
