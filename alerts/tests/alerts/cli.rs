//! The `alerts` binary.

use std::process::{Command, Output};

use crate::helpers::{crate_dir, workspace_root};

fn alerts(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alerts"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("the alerts binary runs")
}

fn text(output: &[u8]) -> String {
    String::from_utf8_lossy(output).into_owned()
}

#[test]
fn check_summarises_the_shipped_spec() {
    let output = alerts(&["check"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("alerts/slo.yaml: valid, service shop, 3 SLOs"),
        "{stdout}"
    );
    assert!(stdout.contains("requests faster than 0.25 s"), "{stdout}");
}

#[test]
fn check_explains_a_bad_spec_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let spec = std::fs::read_to_string(crate_dir().join("slo.yaml"))
        .unwrap()
        .replacen("objective: 99.9", "objective: 100.5", 1)
        .replacen("[{{.window}}]", "[5m]", 1);
    std::fs::write(&bad, spec).unwrap();
    let output = alerts(&["check", "--slo", bad.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("invalid SLO spec (2 problems)"), "{stderr}");
    assert!(
        stderr.contains("slos[0].objective: 100.5 is out of range"),
        "{stderr}"
    );
    assert!(
        stderr.contains("slos[0].sli.events.error_query: does not use {{.window}}"),
        "{stderr}"
    );
}

#[test]
fn the_committed_rules_pass_generate_check() {
    let output = alerts(&["generate", "--check"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn generate_writes_another_period_and_refuses_an_unsupported_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let output = alerts(&[
        "generate",
        "--out",
        out,
        "--period",
        "28d",
        "--page-for",
        "2m",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rules = std::fs::read_to_string(dir.path().join("slo-rules.yaml")).unwrap();
    assert!(rules.contains("slo:sli_error:ratio_rate4w"));
    assert!(rules.contains("for: 2m"));
    // A stale directory fails --check.
    let output = alerts(&["generate", "--out", out, "--check"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("out of date"));

    let output = alerts(&["generate", "--out", out, "--period", "14d"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("30d, 28d (4w) and 7d (1w)"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_runbook_base_url_that_is_not_absolute_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    for bad in [
        "alerts/runbooks/",
        "github.com/you/shop",
        "ftp://host/runbooks/",
    ] {
        let output = alerts(&["generate", "--out", out, "--runbook-base-url", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("is not an absolute URL"), "{stderr}");
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "wrote rules anyway"
    );
}

#[test]
fn a_runbook_base_url_gets_its_trailing_slash() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let output = alerts(&[
        "generate",
        "--out",
        out,
        "--runbook-base-url",
        "https://wiki.example.com/shop/runbooks",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rules = std::fs::read_to_string(dir.path().join("symptom-rules.yaml")).unwrap();
    assert!(
        rules.contains("runbook_url: https://wiki.example.com/shop/runbooks/ShopDown.md"),
        "{rules}"
    );
}
