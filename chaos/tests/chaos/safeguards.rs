//! Safeguards abort a run mid-method and the rollbacks still run; so does a
//! failed action. And the in-process CPU stress really burns CPU.

use std::time::{Duration, Instant};

use chaos::{journal::Status, runner::RunOptions};
use serde_json::Value;

use crate::helpers::{run_yaml, spawn_shop, Backend};

const GUARDED: &str = r#"
title: A storm the safeguard must stop
configuration:
  shop_url: ${SHOP_URL}
  admin_url: ${SHOP_ADMIN_URL}
  admin_token: ${SHOP_ADMIN_TOKEN}
blast-radius:
  hosts: [127.0.0.1]
steady-state-hypothesis:
  title: Home page served
  probes:
    - type: probe
      name: home
      provider: {type: http, url: "${shop_url}/"}
      tolerance: 200
safeguards:
  interval: 0.2
  probes:
    - type: probe
      name: shoppers-still-served
      provider: {type: http, url: "${shop_url}/"}
      tolerance: 200
method:
  - type: action
    name: inject-errors
    provider:
      type: shop-fault
      fault: {kind: error, route: "*", probability: 1.0, status: 503, duration_seconds: 60}
  - type: probe
    name: never-reached
    pauses: {before: 30}
    provider: {type: http, url: "${shop_url}/"}
rollbacks:
  - type: action
    name: clear-errors
    provider: {type: undo, action: inject-errors}
  - type: action
    name: clear-everything
    provider: {type: shop-faults-clear}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_safeguard_breach_aborts_the_method_and_the_rollbacks_run() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let started = Instant::now();
    let journal = run_yaml(GUARDED, &shop.vars(), RunOptions::default()).await;
    let took = started.elapsed();

    assert_eq!(journal.status, Status::Aborted, "{}", journal.timeline());
    assert_eq!(journal.status.exit_code(), 2);
    let reason = journal.aborted.clone().unwrap_or_default();
    assert!(
        reason.contains("safeguard `shoppers-still-served` breached"),
        "{reason}"
    );
    assert_eq!(journal.safeguards.breaches.len(), 1);
    assert!(
        took < Duration::from_secs(10),
        "the 30 s pause was not cut short: the run took {took:?}"
    );
    println!("aborted {took:?} after the start (the method would have taken 30 s)");
    assert!(
        journal.run.iter().all(|r| r.name != "never-reached"),
        "the method went on after the breach"
    );
    assert!(
        journal.steady_states.after.is_none(),
        "the hypothesis was checked after an abort"
    );
    assert_eq!(journal.rollbacks.len(), 2);
    assert!(
        journal.rollbacks.iter().all(|r| r.ok()),
        "{}",
        journal.timeline()
    );
    assert_eq!(shop.active_faults().await, Vec::<Value>::new());
    assert_eq!(shop.status("/").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_action_aborts_and_the_rollbacks_still_run() {
    let shop = spawn_shop(Backend::Sqlite).await;
    // The fault API refuses a wrong token, so the injection fails.
    let vars = shop.vars().with("SHOP_ADMIN_TOKEN", "wrong-token");
    let journal = run_yaml(GUARDED, &vars, RunOptions::default()).await;

    assert_eq!(journal.status, Status::Aborted, "{}", journal.timeline());
    let reason = journal.aborted.clone().unwrap_or_default();
    assert!(reason.contains("action `inject-errors` failed"), "{reason}");
    assert!(reason.contains("401") || reason.contains("403"), "{reason}");
    assert!(journal.run.iter().all(|r| r.name != "never-reached"));
    assert_eq!(journal.rollbacks.len(), 2, "the rollbacks did not all run");
    let undo = &journal.rollbacks[0];
    assert!(undo.ok(), "{}", journal.timeline());
    assert!(
        undo.output.as_ref().unwrap()["note"]
            .as_str()
            .unwrap()
            .contains("nothing to undo"),
        "{:?}",
        undo.output
    );
    assert_eq!(shop.active_faults().await, Vec::<Value>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_stress_burns_cpu_for_its_duration() {
    let yaml = r#"
title: Burn
method:
  - type: action
    name: burn
    provider: {type: cpu-stress, duration_seconds: 1.0, workers: 1}
rollbacks:
  - type: action
    name: stop
    provider: {type: undo, action: burn}
"#;
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    let journal = run_yaml(
        yaml,
        &chaos::experiment::Vars::none(),
        RunOptions::default(),
    )
    .await;
    let (wall, cpu) = (started.elapsed(), process_cpu_seconds() - cpu_before);
    assert_eq!(journal.status, Status::Completed, "{}", journal.timeline());
    let output = journal.run[0].output.clone().unwrap();
    println!("cpu-stress 1 worker, 1 s: {cpu:.2} s of CPU in {wall:?} ({output})");
    assert!(output["ran_seconds"].as_f64().unwrap() >= 0.95, "{output}");
    assert!(cpu >= 0.6, "only {cpu:.2} s of CPU burnt in a 1 s stress");
    assert!(wall < Duration::from_secs(5));
}

/// This process's user + system CPU time, from /proc/self/stat.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15; the split starts at field 3.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    let per_second = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    ticks / per_second
}
