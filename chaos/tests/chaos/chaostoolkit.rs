//! Plain Chaos Toolkit experiments (`experiments/chaostoolkit/`, written from
//! its documentation) load as they are and run against a real shop; the
//! journal has the Chaos Toolkit's shape; bad input names its path; the
//! rollback and hypothesis strategies, `--var` and `--var-file`.
//! (scripts/checks/50-chaos.sh runs the same files through the real
//! `chaostoolkit` CLI and compares.)

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use chaos::{
    experiment::{HypothesisStrategy, Loaded, Provider, RollbackStrategy, Tolerance, Vars},
    journal::Status,
    runner::{self, RunOptions},
    Error,
};
use serde_json::Value;

use crate::helpers::{spawn_shop, Backend};

fn plain(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments/chaostoolkit")
        .join(name)
}

fn vars() -> Vars {
    Vars::none()
        .with("SHOP_URL", "http://127.0.0.1:9")
        .with("SHOP_ADMIN_URL", "http://127.0.0.1:10")
        .with("SHOP_ADMIN_TOKEN", "s3cret")
}

fn problems(text: &str, vars: &Vars) -> Vec<(String, String)> {
    match Loaded::parse(text, "test", None, vars) {
        Ok(_) => Vec::new(),
        Err(Error::Invalid { problems, .. }) => {
            problems.into_iter().map(|p| (p.field, p.message)).collect()
        }
        Err(other) => panic!("not a validation error: {other}"),
    }
}

#[test]
fn a_json_experiment_reads_env_configuration_secrets_and_http_arguments() {
    let loaded = Loaded::load(plain("catalogue-holds.json"), &vars()).unwrap();
    let e = &loaded.experiment;
    assert_eq!(e.configuration["shop_url"], "http://127.0.0.1:9");
    assert_eq!(e.secrets["shop"]["admin_token"], "s3cret");
    let Provider::Http(inject) = &e.method[0].provider else {
        panic!("an http action: {:?}", e.method[0].provider)
    };
    assert_eq!(inject.url, "http://127.0.0.1:10/admin/faults");
    assert_eq!(inject.method, "POST");
    assert_eq!(inject.headers["Authorization"], "Bearer s3cret");
    assert_eq!(inject.expected_status, Some(201));
    assert_eq!(inject.arguments.as_ref().unwrap()["latency_ms"], 50);
    let probes = &e.steady_state_hypothesis.as_ref().unwrap().probes;
    let Provider::Http(timed) = &probes[1].provider else {
        panic!("an http probe")
    };
    assert_eq!(timed.timeouts(), (Some(2.0), 5.0), "[connect, read]");
    assert!(matches!(
        probes[2].tolerance,
        Some(Tolerance::JsonPath { count: Some(6), .. })
    ));
    assert_eq!(
        loaded.as_written["secrets"]["shop"]["admin_token"]["key"], "SHOP_ADMIN_TOKEN",
        "the journal keeps the experiment as written, not the secret"
    );
}

#[test]
fn a_yaml_experiment_reads_process_providers_refs_pauses_and_probe_tolerances() {
    let loaded = Loaded::load(plain("readiness-with-processes.yaml"), &vars()).unwrap();
    let e = &loaded.experiment;
    let Provider::Process(curl) = &e.method[0].provider else {
        panic!("a process action")
    };
    assert_eq!(curl.path, "curl");
    assert!(curl.arguments.as_ref().unwrap()[5]
        .as_str()
        .unwrap()
        .ends_with("s3cret"));
    assert_eq!(
        e.method[0].pauses.after, 0.5,
        "a number from `${{settle_seconds}}`"
    );
    assert_eq!(e.method[1].name, "home-page-through-curl", "the ref");
    let probes = &e.steady_state_hypothesis.as_ref().unwrap().probes;
    assert!(
        matches!(&probes[2].tolerance, Some(Tolerance::Probe(p)) if p.name == "the-output-says-ready")
    );
}

#[test]
fn a_missing_secret_and_a_missing_configuration_variable_name_their_entries() {
    let text = std::fs::read_to_string(plain("error-storm-deviates.json")).unwrap();
    let text = text.replace(
        r#""default": "http://127.0.0.1:8081""#,
        r#""defaults": "http://127.0.0.1:8081""#,
    );
    let found = problems(&text, &Vars::none());
    let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "configuration.admin_url.defaults",
            "configuration.admin_url",
            "secrets.shop.admin_token"
        ],
        "{found:#?}"
    );
    assert!(
        found[2].1.contains("`SHOP_ADMIN_TOKEN` is not set"),
        "{found:#?}"
    );
}

#[test]
fn unknown_providers_and_bad_tolerances_are_one_problem_each() {
    let text = r#"{
      "title": "t",
      "steady-state-hypothesis": {"title": "h", "probes": [
        {"type": "probe", "name": "p", "tolerance": 200,
         "provider": {"type": "python", "module": "chaosk8s.pod.probes", "func": "pods_in_phase"}}
      ]},
      "method": [
        {"type": "action", "name": "a", "provider": {"type": "ssh", "host": "x"}}
      ]
    }"#;
    let found = problems(text, &Vars::none());
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(
        found[0].0,
        "steady-state-hypothesis.probes[0].provider.type"
    );
    assert!(found[0].1.contains("a `python` provider"), "{found:#?}");
    assert_eq!(found[1].0, "method[0].provider.type");
    assert!(found[1].1.contains("unknown provider type `ssh`"));

    let bad_tolerance = r#"{"title": "t", "steady-state-hypothesis": {"title": "h", "probes": [
        {"type": "probe", "name": "p", "tolerance": {"type": "regex"},
         "provider": {"type": "http", "url": "http://127.0.0.1/"}}]},
      "method": [{"type": "action", "name": "a", "provider": {"type": "process", "path": "no-such-program-here"}}]}"#;
    let found = problems(bad_tolerance, &Vars::none());
    assert_eq!(
        found.len(),
        1,
        "serde stops at the first type error: {found:#?}"
    );
    assert_eq!(found[0].0, "steady-state-hypothesis.probes[0].tolerance");
    assert!(found[0].1.contains("needs `pattern`"), "{found:#?}");
    let fixed = bad_tolerance.replace(
        r#"{"type": "regex"}"#,
        r#"{"type": "regex", "pattern": "x"}"#,
    );
    let found = problems(&fixed, &Vars::none());
    assert_eq!(found[0].0, "method[0].provider.path", "{found:#?}");
}

#[test]
fn a_broken_json_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\n  \"title\": \"t\",\n  \"method\": [,]\n}\n").unwrap();
    let Err(Error::Invalid { problems, .. }) = Loaded::load(&path, &Vars::none()) else {
        panic!("a broken JSON file loaded")
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "line 3, column 14");
    assert!(
        problems[0].message.starts_with("not valid JSON"),
        "{}",
        problems[0]
    );
}

#[test]
fn controls_are_ignored_with_a_note_naming_where_they_are() {
    let text = r#"{"title": "t", "controls": [{"name": "tracing", "provider": {"type": "python", "module": "chaostracing.control"}}],
      "method": [{"type": "probe", "name": "p", "controls": [], "provider": {"type": "http", "url": "http://127.0.0.1/"}}]}"#;
    let loaded = Loaded::parse(text, "test", None, &Vars::none()).unwrap();
    let fields: Vec<&str> = loaded.notes.iter().map(|n| n.field.as_str()).collect();
    assert_eq!(fields, ["controls", "method[0].controls"]);
}

crate::on_both_backends!(plain_experiments_complete_or_deviate_against_a_real_shop);

async fn plain_experiments_complete_or_deviate_against_a_real_shop(backend: Backend) {
    let shop = spawn_shop(backend).await;
    for (file, status, failed) in [
        ("catalogue-holds.json", Status::Completed, None),
        (
            "error-storm-deviates.json",
            Status::Deviated,
            Some("home-page-answers"),
        ),
        ("readiness-with-processes.yaml", Status::Completed, None),
        (
            "checkout-page-deviates.yaml",
            Status::Deviated,
            Some("product-api-through-curl"),
        ),
    ] {
        let loaded = Loaded::load(plain(file), &shop.vars()).unwrap();
        let journal = runner::run_loaded(&loaded, RunOptions::default()).await;
        assert_eq!(journal.status, status, "{file}:\n{}", journal.timeline());
        let ctk = journal.to_chaostoolkit();
        assert_eq!(ctk["status"], "completed", "{file}");
        assert_eq!(ctk["deviated"], status == Status::Deviated, "{file}");
        let out_of_tolerance: Vec<&str> = ctk["steady_states"]["after"]["probes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["tolerance_met"] == false)
            .map(|p| p["activity"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            out_of_tolerance,
            failed.into_iter().collect::<Vec<_>>(),
            "{file}"
        );
        assert_eq!(ctk["rollbacks"][0]["status"], "succeeded", "{file}");
        assert!(
            shop.active_faults().await.is_empty(),
            "{file}: fault left behind"
        );
    }
}

const STORM: &str = r#"
title: A storm and its rollback
configuration:
  shop_url: ${SHOP_URL}
  admin_url: ${SHOP_ADMIN_URL}
secrets:
  shop:
    token: {type: env, key: SHOP_ADMIN_TOKEN}
steady-state-hypothesis:
  title: Home page served
  probes:
    - type: probe
      name: home
      provider: {type: http, url: "${shop_url}/"}
      tolerance: 200
method:
  - type: action
    name: storm
    provider:
      type: http
      method: POST
      url: ${admin_url}/admin/faults
      headers: {Authorization: "Bearer ${token}", Content-Type: application/json}
      arguments: {kind: error, route: "/", status: 503, duration_seconds: 30}
      expected_status: 201
rollbacks:
  - type: action
    name: clear
    provider:
      type: http
      method: DELETE
      url: ${admin_url}/admin/faults
      headers: {Authorization: "Bearer ${token}"}
"#;

async fn storm(shop: &crate::helpers::Shop, options: RunOptions) -> chaos::journal::Journal {
    let loaded = Loaded::parse(STORM, "storm", None, &shop.vars()).unwrap();
    runner::run_loaded(&loaded, options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rollback_strategy_decides_whether_rollbacks_run() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let never = storm(
        &shop,
        RunOptions {
            rollback_strategy: Some(RollbackStrategy::Never),
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(never.status, Status::Deviated, "{}", never.timeline());
    assert!(never.rollbacks.is_empty());
    assert!(never
        .rollbacks_skipped
        .as_deref()
        .unwrap()
        .contains("never"));
    assert_eq!(
        shop.active_faults().await.len(),
        1,
        "never: the fault stays"
    );

    let deviated = storm(
        &shop,
        RunOptions {
            rollback_strategy: Some(RollbackStrategy::Deviated),
            hypothesis_strategy: Some(HypothesisStrategy::AfterMethodOnly),
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(deviated.rollbacks.len(), 1, "{}", deviated.timeline());
    assert!(deviated.steady_states.before.is_none(), "after-method-only");
    assert!(
        shop.active_faults().await.is_empty(),
        "deviated: rolled back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hypothesis_strategies_choose_when_the_probes_run() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let before_only = storm(
        &shop,
        RunOptions {
            hypothesis_strategy: Some(HypothesisStrategy::BeforeMethodOnly),
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(
        before_only.status,
        Status::Completed,
        "nothing checks after"
    );
    assert!(before_only.steady_states.before.is_some());
    assert!(before_only.steady_states.after.is_none());

    let during = storm(
        &shop,
        RunOptions {
            hypothesis_strategy: Some(HypothesisStrategy::Continuously),
            hypothesis_frequency: Some(0.1),
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(during.status, Status::Deviated, "{}", during.timeline());
    assert!(!during.steady_states.during.is_empty());
    assert!(shop.active_faults().await.is_empty());
}

#[test]
fn a_process_that_outlives_its_timeout_fails_and_one_that_exits_non_zero_does_not() {
    let text = r#"{"title": "t", "method": [
        {"type": "action", "name": "slow", "provider": {"type": "process", "path": "sleep", "arguments": ["5"], "timeout": 0.2}},
        {"type": "probe", "name": "false", "provider": {"type": "process", "path": "sh", "arguments": "-c 'echo out; exit 3'"}}
    ]}"#;
    let loaded = Loaded::parse(text, "t", None, &Vars::none()).unwrap();
    let experiment = loaded.experiment;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The failed action aborts the run (this runner's rule), so run the probe alone too.
    let journal = runtime.block_on(runner::run(&experiment, RunOptions::default()));
    assert_eq!(journal.status, Status::Aborted);
    assert!(journal.run[0]
        .error
        .as_deref()
        .unwrap()
        .contains("took too long"));
    let mut probe_only = experiment.clone();
    probe_only.method.remove(0);
    let journal = runtime.block_on(runner::run(&probe_only, RunOptions::default()));
    let output = journal.run[0].output.clone().unwrap();
    assert_eq!(output["status"], 3);
    assert_eq!(output["stdout"], "out\n");
    assert_eq!(journal.status, Status::Completed);
}

#[test]
fn the_cli_takes_vars_and_var_files() {
    let dir = tempfile::tempdir().unwrap();
    let vars = dir.path().join("vars.yaml");
    std::fs::write(
        &vars,
        "configuration:\n  shop_url: http://127.0.0.1:7001\nsecrets:\n  shop:\n    admin_token: from-file\n",
    )
    .unwrap();
    let journal = dir.path().join("journal.json");
    let output = Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
        .args(["run", "--dry-run", "--var-file"])
        .arg(&vars)
        .args(["--var", "admin_url=http://127.0.0.1:7002", "--journal-path"])
        .arg(&journal)
        .arg(plain("error-storm-deviates.json"))
        .env_remove("SHOP_ADMIN_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let journal: Value = serde_json::from_str(&std::fs::read_to_string(&journal).unwrap()).unwrap();
    assert_eq!(
        journal["configuration"]["shop_url"],
        "http://127.0.0.1:7001"
    );
    assert_eq!(
        journal["configuration"]["admin_url"],
        "http://127.0.0.1:7002"
    );
    assert_eq!(journal["status"], "completed");
    let plan = journal["run"][0]["output"]["provider"].to_string();
    assert!(plan.contains("Bearer ***"), "{plan}");
    assert!(
        !plan.contains("from-file"),
        "a secret reached the dry-run journal: {plan}"
    );

    let refused = Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
        .args(["validate", "--var", "novalue"])
        .arg(plain("error-storm-deviates.json"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("key=value"));
}
