//! Checks of each provider's fields, and of the URLs, namespaces and
//! selection sizes against the blast radius.

use std::sync::OnceLock;

use shop_contract::faults::{FaultKind, FaultTarget};

use super::{sli_windows, Check, SIGNALS};
use crate::{
    experiment::{targets, Provider, Targets},
    proxy::toxics,
};

impl Check<'_> {
    pub(super) fn provider(&mut self, path: &str, provider: &Provider) {
        match provider {
            Provider::Http(http) => self.http(path, http),
            Provider::Process(process) => self.process(path, process),
            Provider::HttpLoad(load) => {
                self.url(&format!("{path}.url"), &load.url);
                self.method(&format!("{path}.method"), &load.method);
                self.seconds(
                    &format!("{path}.timeout_seconds"),
                    load.timeout_seconds,
                    300.0,
                );
                if !(1..=10_000).contains(&load.requests) {
                    self.problem(
                        format!("{path}.requests"),
                        "1 to 10000 requests: load stays bounded",
                    );
                }
                if !(1..=64).contains(&load.concurrency) {
                    self.problem(format!("{path}.concurrency"), "1 to 64 requests at once");
                }
                if load.rate.is_some_and(|r| !(r > 0.0 && r <= 1000.0)) {
                    self.problem(
                        format!("{path}.rate"),
                        "more than 0 and at most 1000 requests per second",
                    );
                }
            }
            Provider::Prometheus(query) => {
                if query.query.trim().is_empty() {
                    self.problem(format!("{path}.query"), "an empty query");
                }
                self.target_url(path, "url", query.url.as_deref(), targets::PROMETHEUS_URL);
            }
            Provider::SloBurnRate(slo) => {
                let spec = alerts::spec::SloSpec::shipped();
                if spec.slo(&slo.slo).is_none() {
                    let names: Vec<_> = spec.slos.iter().map(|s| s.name.as_str()).collect();
                    self.problem(
                        format!("{path}.slo"),
                        format!(
                            "no SLO `{}` in alerts/slo.yaml; known: {}",
                            slo.slo,
                            names.join(", ")
                        ),
                    );
                }
                if let Some(window) = &slo.window {
                    let windows = sli_windows();
                    if !windows.contains(window) {
                        self.problem(
                            format!("{path}.window"),
                            format!(
                                "no recording rule for window `{window}`; recorded: {}",
                                windows.join(", ")
                            ),
                        );
                    }
                }
                self.target_url(path, "url", slo.url.as_deref(), targets::PROMETHEUS_URL);
            }
            Provider::ShopFault(shop) => {
                let fault = &shop.fault;
                let field = format!("{path}.fault");
                if !(0.0..=1.0).contains(&fault.probability) {
                    self.problem(
                        format!("{field}.probability"),
                        "a probability is 0.0 to 1.0",
                    );
                }
                match fault.target {
                    FaultTarget::Http if fault.route != "*" && !fault.route.starts_with('/') => {
                        self.problem(
                            format!("{field}.route"),
                            "a route pattern starts with `/`, or is `*`",
                        );
                    }
                    FaultTarget::Database if fault.route.starts_with('/') => {
                        self.problem(
                            format!("{field}.route"),
                            "a database fault names an operation such as `get_product`, or `*`",
                        );
                    }
                    _ => {}
                }
                if fault.kind == FaultKind::Latency && fault.latency_ms.is_none_or(|ms| ms == 0) {
                    self.problem(
                        format!("{field}.latency_ms"),
                        "a latency fault needs latency_ms",
                    );
                }
                if let Some(status) = fault.status {
                    if !(400..=599).contains(&status) {
                        self.problem(format!("{field}.status"), "an error status is 400 to 599");
                    }
                }
                if fault.duration_seconds == 0 || fault.duration_seconds > 86_400 {
                    self.problem(
                        format!("{field}.duration_seconds"),
                        "1 second to a day: a fault must clear itself even if the rollbacks never run",
                    );
                }
                self.target_url(path, "", None, targets::ADMIN_URL);
            }
            Provider::ShopFaultsClear(_) => self.target_url(path, "", None, targets::ADMIN_URL),
            Provider::ProxyToxic(toxic) => {
                self.proxy_name(path, &toxic.proxy);
                self.target_url(path, "api", toxic.api.as_deref(), targets::PROXY_API);
                match toxics::attribute_names(&toxic.toxic) {
                    None => self.problem(
                        format!("{path}.toxic"),
                        format!(
                            "unknown toxic `{}`; known: {}",
                            toxic.toxic,
                            toxics::TYPES
                                .iter()
                                .map(|(t, _)| *t)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                    Some(names) => {
                        for key in toxic.attributes.keys() {
                            if !names.contains(&key.as_str()) {
                                self.problem(
                                    format!("{path}.attributes.{key}"),
                                    format!(
                                        "a {} toxic has no attribute `{key}`; it has {}",
                                        toxic.toxic,
                                        names.join(", ")
                                    ),
                                );
                            }
                        }
                        if let Err(message) =
                            toxics::ToxicKind::parse(&toxic.toxic, &toxic.attributes)
                        {
                            self.problem(format!("{path}.attributes"), message);
                        }
                    }
                }
                if !(0.0..=1.0).contains(&toxic.toxicity) {
                    self.problem(format!("{path}.toxicity"), "toxicity is 0.0 to 1.0");
                }
            }
            Provider::ProxyDown(p) | Provider::ProxyUp(p) => {
                self.proxy_name(path, &p.proxy);
                self.target_url(path, "api", p.api.as_deref(), targets::PROXY_API);
            }
            Provider::ProxyReset(p) => {
                self.target_url(path, "api", p.api.as_deref(), targets::PROXY_API)
            }
            Provider::ProcessSignal(signal) => {
                if !SIGNALS.contains(&signal.signal.to_uppercase().as_str())
                    && !SIGNALS.contains(&format!("SIG{}", signal.signal.to_uppercase()).as_str())
                {
                    self.problem(
                        format!("{path}.signal"),
                        format!("one of {}", SIGNALS.join(", ")),
                    );
                }
                match (&signal.pid_file, &signal.pattern) {
                    (Some(_), Some(_)) | (None, None) => self.problem(
                        path,
                        "give exactly one of `pid_file` and `pattern` to find the process",
                    ),
                    (None, Some(pattern)) => {
                        if let Err(e) = regex::Regex::new(pattern) {
                            self.problem(
                                format!("{path}.pattern"),
                                format!("not a valid regex: {e}"),
                            );
                        }
                    }
                    _ => {}
                }
                self.targets(&format!("{path}.targets"), signal.targets);
                self.seconds(
                    &format!("{path}.wait_exit_seconds"),
                    signal.wait_exit_seconds,
                    600.0,
                );
            }
            Provider::K8sDeletePods(pods) => {
                if let Err(message) = parse_selector(&pods.selector) {
                    self.problem(format!("{path}.selector"), message);
                }
                self.targets(&format!("{path}.targets"), pods.targets);
                self.namespace(path, pods.namespace.as_deref());
            }
            Provider::K8sScale(scale) => {
                self.object_name(&format!("{path}.deployment"), &scale.deployment);
                if scale.replicas < 0 {
                    self.problem(format!("{path}.replicas"), "replicas are 0 or more");
                }
                self.namespace(path, scale.namespace.as_deref());
            }
            Provider::K8sRolloutRestart(restart) => {
                self.object_name(&format!("{path}.deployment"), &restart.deployment);
                self.namespace(path, restart.namespace.as_deref());
            }
            Provider::K8sPatchResources(patch) => {
                self.object_name(&format!("{path}.deployment"), &patch.deployment);
                self.object_name(&format!("{path}.container"), &patch.container);
                if patch.resources.requests.is_empty() && patch.resources.limits.is_empty() {
                    self.problem(format!("{path}.resources"), "give `requests` or `limits`");
                }
                for (section, map) in [
                    ("requests", &patch.resources.requests),
                    ("limits", &patch.resources.limits),
                ] {
                    for (name, quantity) in map {
                        if !valid_quantity(quantity) {
                            self.problem(
                                format!("{path}.resources.{section}.{name}"),
                                format!("`{quantity}` is not a Kubernetes quantity (such as 250m, 1, 128Mi)"),
                            );
                        }
                    }
                }
                self.namespace(path, patch.namespace.as_deref());
            }
            Provider::CpuStress(stress) => {
                if !(stress.duration_seconds > 0.0 && stress.duration_seconds <= 3600.0) {
                    self.problem(
                        format!("{path}.duration_seconds"),
                        "more than 0 and at most 3600 seconds",
                    );
                }
                if stress.workers.is_some_and(|w| !(1..=256).contains(&w)) {
                    self.problem(format!("{path}.workers"), "1 to 256 threads");
                }
                if !(1..=100).contains(&stress.load_percent) {
                    self.problem(format!("{path}.load_percent"), "1 to 100");
                }
            }
            Provider::Undo(_) => {}
        }
    }

    fn proxy_name(&mut self, path: &str, name: &str) {
        if name.is_empty() || name.contains('/') {
            self.problem(format!("{path}.proxy"), "a proxy name, without `/`");
        }
    }

    fn targets(&mut self, field: &str, targets: Targets) {
        let max = self.experiment.blast_radius.max_targets;
        match targets {
            Targets::Count { value: 0 } => {
                self.problem(format!("{field}.value"), "a count is at least 1")
            }
            Targets::Count { value } if max.is_some_and(|m| value > m) => self.problem(
                format!("{field}.value"),
                format!(
                    "{value} targets exceed blast-radius.max-targets ({})",
                    max.unwrap_or_default()
                ),
            ),
            Targets::Percent { value } if !(value > 0.0 && value <= 100.0) => self.problem(
                format!("{field}.value"),
                "a percentage is more than 0 and at most 100",
            ),
            _ => {}
        }
    }

    fn namespace(&mut self, path: &str, given: Option<&str>) {
        let namespace = given.or(self
            .experiment
            .configuration
            .get(targets::KUBE_NAMESPACE)
            .map(String::as_str));
        let allowed = &self.experiment.blast_radius.namespaces;
        match namespace.filter(|n| !n.is_empty()) {
            Some(ns) if !allowed.is_empty() && !allowed.iter().any(|a| a == ns) => self.problem(
                format!("{path}.namespace"),
                format!("namespace `{ns}` is outside blast-radius.namespaces ({})", allowed.join(", ")),
            ),
            None if !allowed.is_empty() => self.problem(
                format!("{path}.namespace"),
                "blast-radius.namespaces is set: name the namespace (here or in configuration.kube_namespace)",
            ),
            _ => {}
        }
    }

    fn object_name(&mut self, field: &str, name: &str) {
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !valid {
            self.problem(field, format!("`{name}` is not a Kubernetes object name"));
        }
    }
}

/// Checks a label selector's syntax: `key=value`, `key!=value`, `key`,
/// `!key`, `key in (a,b)`, `key notin (a,b)`, separated by commas.
pub fn parse_selector(selector: &str) -> Result<(), String> {
    if selector.trim().is_empty() {
        return Err("an empty selector would select every pod".into());
    }
    static TERM: OnceLock<regex::Regex> = OnceLock::new();
    let term = TERM.get_or_init(|| {
        let key = r"([a-z0-9A-Z.\-/_]+)";
        let value = r"[a-z0-9A-Z.\-_]*";
        regex::Regex::new(&format!(
            r"^\s*(!?{key}|{key}\s*(=|==|!=)\s*{value}|{key}\s+(in|notin)\s+\(\s*{value}(\s*,\s*{value})*\s*\))\s*$"
        ))
        .expect("a valid regex")
    });
    // Commas inside `in (...)` do not separate terms.
    let mut depth = 0;
    let mut start = 0;
    let mut terms = Vec::new();
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    match terms.iter().find(|t| !term.is_match(t)) {
        Some(bad) => Err(format!("`{}` is not a label selector term", bad.trim())),
        None => Ok(()),
    }
}

fn valid_quantity(quantity: &str) -> bool {
    static QUANTITY: OnceLock<regex::Regex> = OnceLock::new();
    QUANTITY
        .get_or_init(|| {
            regex::Regex::new(
                r"^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$",
            )
            .expect("a valid regex")
        })
        .is_match(quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_like_kubectl() {
        for good in [
            "app=shop",
            "app.kubernetes.io/name=shop,tier!=db",
            "env in (a, b),!canary",
            "app",
        ] {
            assert!(parse_selector(good).is_ok(), "{good}");
        }
        for bad in ["", "app=", "=shop", "app in a,b", "app ~ shop"] {
            if bad == "app=" {
                continue; // an empty value is legal
            }
            assert!(parse_selector(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantities() {
        for good in ["100m", "1", "0.5", "128Mi", "2Gi", "1e3"] {
            assert!(valid_quantity(good), "{good}");
        }
        for bad in ["", "fast", "1 Gi", "Mi"] {
            assert!(!valid_quantity(bad), "{bad}");
        }
    }
}
