//! `chaos validate`: every shipped experiment passes; broken ones are refused
//! with a message that names the bad field.

use std::process::Command;

use chaos::{
    experiment::{Loaded, Vars},
    Error,
};

use crate::helpers::{shipped, shipped_experiments};

#[test]
fn every_shipped_experiment_is_valid() {
    let paths = shipped_experiments();
    let names: Vec<_> = paths
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for wanted in [
        "error-storm",
        "slow-database",
        "database-outage",
        "connection-resets",
        "pod-kill",
        "graceful-shutdown",
        "cpu-saturation",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "no experiments/{wanted}.yaml"
        );
    }
    for path in &paths {
        let loaded = Loaded::load(path, &Vars::none()).unwrap_or_else(|e| panic!("{e}"));
        let experiment = &loaded.experiment;
        assert!(
            experiment.runbook.is_some(),
            "{} links no runbook",
            path.display()
        );
        assert!(
            !experiment.expected_alerts.is_empty(),
            "{} names no expected alert",
            path.display()
        );
        assert!(
            !experiment.rollbacks.is_empty(),
            "{} has no rollback",
            path.display()
        );
    }
}

#[test]
fn the_cli_validates_the_catalogue() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
        .arg("validate")
        .args(shipped_experiments())
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok: ")).count(),
        shipped_experiments().len()
    );
}

#[test]
fn the_cli_refuses_a_broken_experiment_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "title: broken\nmethod:\n  - type: action\n    name: storm\n    provider:\n      type: shop-fault\n      fault: {kind: error, route: '*', probability: 2, duration_seconds: 10}\n",
    )
    .unwrap();
    for command in ["validate", "run"] {
        let output = Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
            .args([command, broken.to_str().unwrap()])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(2), "chaos {command}: {text}");
        assert!(
            text.contains("`method[0].provider.fault.probability`"),
            "chaos {command}: {text}"
        );
    }
    assert!(
        !dir.path().join("broken.journal.json").exists(),
        "an invalid run wrote a journal"
    );
}

/// A minimal valid experiment to break, one field at a time.
const BASE: &str = r#"
title: t
configuration:
  shop_url: http://127.0.0.1:8080
  admin_url: http://127.0.0.1:8081
  proxy_api: http://127.0.0.1:8474
  prometheus_url: http://127.0.0.1:9090
blast-radius:
  hosts: [127.0.0.1]
  max-targets: 1
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: home
      provider: {type: http, url: "${shop_url}/"}
      tolerance: 200
method:
  - type: action
    name: storm
    provider:
      type: shop-fault
      fault: {kind: error, route: "*", probability: 1.0, duration_seconds: 60}
rollbacks:
  - type: action
    name: calm
    provider: {type: undo, action: storm}
"#;

fn problems_of(yaml: &str) -> Vec<(String, String)> {
    match Loaded::parse(yaml, "test", None, &Vars::none()) {
        Ok(_) => Vec::new(),
        Err(Error::Invalid { problems, .. }) => {
            problems.into_iter().map(|p| (p.field, p.message)).collect()
        }
        Err(other) => panic!("not a validation error: {other}"),
    }
}

/// Replaces `from` by `to` in the base experiment and checks the one problem.
fn refused(from: &str, to: &str, field: &str, message: &str) {
    assert!(BASE.contains(from), "the base lacks {from:?}");
    let problems = problems_of(&BASE.replacen(from, to, 1));
    assert!(
        problems
            .iter()
            .any(|(f, m)| f == field && m.contains(message)),
        "replacing {from:?} by {to:?}: expected `{field}`: …{message}…, got {problems:#?}"
    );
}

#[test]
fn the_base_experiment_is_valid() {
    assert_eq!(problems_of(BASE), Vec::new());
}

#[test]
fn broken_experiments_are_refused_naming_the_field() {
    refused("title: t\n", "", "", "missing field `title`");
    refused(
        "method:",
        "methods:",
        "methods",
        "unknown field `methods`, expected one of",
    );
    refused(
        "type: shop-fault",
        "type: shop-faults",
        "method[0].provider.type",
        "unknown provider type `shop-faults`; known: http, process,",
    );
    refused(
        "probability: 1.0",
        "probability: 1.5",
        "method[0].provider.fault.probability",
        "0.0 to 1.0",
    );
    refused(
        "kind: error",
        "kind: explode",
        "method[0].provider",
        "unknown variant `explode`",
    );
    refused(
        "duration_seconds: 60",
        "duration_seconds: 0",
        "method[0].provider.fault.duration_seconds",
        "clear itself",
    );
    refused(
        "action: storm",
        "action: stormy",
        "rollbacks[0].provider.action",
        "`stormy` is not one",
    );
    refused(
        "tolerance: 200",
        "tolerance: {type: regex, pattern: '('}",
        "steady-state-hypothesis.probes[0].tolerance",
        "not a valid regex",
    );
    refused(
        "tolerance: 200",
        "tolerance: {type: jsonpath, path: status}",
        "steady-state-hypothesis.probes[0].tolerance",
        "not a valid JSONPath",
    );
    refused(
        "      tolerance: 200\n",
        "",
        "steady-state-hypothesis.probes[0].tolerance",
        "needs a tolerance",
    );
    refused(
        "    - type: probe\n      name: home",
        "    - type: action\n      name: home",
        "steady-state-hypothesis.probes[0].type",
        "only probes may be here",
    );
    refused(
        "url: \"${shop_url}/\"",
        "url: \"${shop_address}/\"",
        "steady-state-hypothesis.probes[0].provider.url",
        "`${shop_address}` is not set",
    );
    refused(
        "url: \"${shop_url}/\"",
        "url: \"http://10.0.0.1/\"",
        "steady-state-hypothesis.probes[0].provider.url",
        "outside the blast radius",
    );
    refused(
        "url: \"${shop_url}/\"",
        "url: \"ftp://127.0.0.1/\"",
        "steady-state-hypothesis.probes[0].provider.url",
        "not an http",
    );
    refused(
        "  admin_url: http://127.0.0.1:8081\n",
        "",
        "method[0].provider",
        "needs `configuration.admin_url`",
    );
    refused(
        "title: t\n",
        "title: t\nexpected-alerts: [ShopOnFire]\n",
        "expected-alerts[0]",
        "no alert named `ShopOnFire`",
    );
    refused(
        "- type: action\n    name: storm",
        "- ref: nowhere\n  - type: action\n    name: storm",
        "method[0].ref",
        "no activity is named \"nowhere\"",
    );
    refused(
        "title: t\n",
        "title: t\n  oops: [\n",
        "line 3, column 7",
        "not valid JSON or YAML",
    );
}

#[test]
fn broken_providers_are_refused_naming_the_field() {
    let method = "    provider:\n      type: shop-fault\n      fault: {kind: error, route: \"*\", probability: 1.0, duration_seconds: 60}\n";
    let with = |provider: &str| BASE.replacen(method, provider, 1);
    let check = |provider: &str, field: &str, message: &str| {
        let problems = problems_of(&with(provider));
        assert!(
            problems
                .iter()
                .any(|(f, m)| f == field && m.contains(message)),
            "{provider}: expected `{field}`: …{message}…, got {problems:#?}"
        );
    };
    check(
        "    provider: {type: proxy-toxic, proxy: db, toxic: lag}\n",
        "method[0].provider.toxic",
        "unknown toxic `lag`",
    );
    check(
        "    provider: {type: proxy-toxic, proxy: db, toxic: latency, attributes: {latencyy: 5}}\n",
        "method[0].provider.attributes.latencyy",
        "has no attribute `latencyy`",
    );
    check(
        "    provider: {type: proxy-toxic, proxy: db, toxic: latency, attributes: {latency: -5}}\n",
        "method[0].provider.attributes",
        "whole number",
    );
    check(
        "    provider: {type: proxy-toxic, proxy: db, toxic: latency, toxicity: 2}\n",
        "method[0].provider.toxicity",
        "0.0 to 1.0",
    );
    check(
        "    provider: {type: process-signal, signal: SIGTERM, pid_file: a.pid, pattern: shop}\n",
        "method[0].provider",
        "exactly one of",
    );
    check(
        "    provider: {type: process-signal, signal: SIGSEGV, pattern: shop}\n",
        "method[0].provider.signal",
        "one of SIGTERM",
    );
    check(
        "    provider: {type: process-signal, signal: SIGKILL, pattern: '(shop'}\n",
        "method[0].provider.pattern",
        "not a valid regex",
    );
    check("    provider: {type: k8s-delete-pods, selector: 'app=shop', namespace: shop, targets: {mode: count, value: 3}}\n", "method[0].provider.targets.value", "exceed blast-radius.max-targets");
    check(
        "    provider: {type: k8s-delete-pods, selector: 'app ~ shop', namespace: shop}\n",
        "method[0].provider.selector",
        "not a label selector term",
    );
    check(
        "    provider: {type: k8s-delete-pods, selector: '', namespace: shop}\n",
        "method[0].provider.selector",
        "every pod",
    );
    check("    provider: {type: k8s-delete-pods, selector: 'app=shop', namespace: shop, targets: {mode: percent, value: 150}}\n", "method[0].provider.targets.value", "percentage");
    check(
        "    provider: {type: k8s-scale, deployment: Shop_1, replicas: 1}\n",
        "method[0].provider.deployment",
        "not a Kubernetes object name",
    );
    check("    provider: {type: k8s-patch-resources, deployment: shop, container: shop, resources: {limits: {cpu: fast}}}\n", "method[0].provider.resources.limits.cpu", "not a Kubernetes quantity");
    check(
        "    provider: {type: cpu-stress, duration_seconds: 0}\n",
        "method[0].provider.duration_seconds",
        "more than 0",
    );
    check(
        "    provider: {type: http-load, url: 'http://127.0.0.1/', requests: 1}\n",
        "method[0].type",
        "is a probe, not an action",
    );
    check(
        "    provider: {type: slo-burn-rate, slo: speed}\n",
        "method[0].type",
        "is a probe",
    );
    let probe = |provider: &str| {
        BASE.replacen(method, provider, 1)
            .replacen(
                "  - type: action\n    name: storm",
                "  - type: probe\n    name: storm",
                1,
            )
            .replacen("action: storm", "action: nothing", 1)
    };
    let problems = problems_of(&probe(
        "    provider: {type: slo-burn-rate, slo: speed, window: 7m}\n",
    ));
    for (field, message) in [
        (
            "method[0].provider.slo",
            "no SLO `speed` in alerts/slo.yaml; known: availability",
        ),
        (
            "method[0].provider.window",
            "no recording rule for window `7m`",
        ),
    ] {
        assert!(
            problems
                .iter()
                .any(|(f, m)| f == field && m.contains(message)),
            "{problems:#?}"
        );
    }
    let problems = problems_of(&probe(
        "    provider: {type: http-load, url: 'http://127.0.0.1/', requests: 100000}\n",
    ));
    assert!(
        problems
            .iter()
            .any(|(f, m)| f == "method[0].provider.requests" && m.contains("bounded")),
        "{problems:#?}"
    );
}

#[test]
fn a_missing_runbook_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.yaml");
    std::fs::write(
        &path,
        BASE.replacen("title: t\n", "title: t\nrunbook: ../runbooks/Nope.md\n", 1),
    )
    .unwrap();
    let error = Loaded::load(&path, &Vars::none()).unwrap_err().to_string();
    assert!(
        error.contains("`runbook`: no runbook at ../runbooks/Nope.md"),
        "{error}"
    );
    // The shipped ones resolve against their own directory.
    Loaded::load(shipped("error-storm"), &Vars::none()).unwrap();
}

#[test]
fn refs_stand_for_the_activity_they_name() {
    let yaml = BASE.replacen("rollbacks:", "  - ref: home\nrollbacks:", 1);
    let loaded = Loaded::parse(&yaml, "test", None, &Vars::none()).unwrap();
    let method = &loaded.experiment.method;
    assert_eq!(method.len(), 2);
    assert_eq!(
        method[1],
        loaded.experiment.steady_state_hypothesis.unwrap().probes[0]
    );
}
