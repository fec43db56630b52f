//! `loadgen capacity` end to end: a debug shop as a pod (a cgroup CPU limit,
//! a fresh PostgreSQL database), two short request-rate steps; and the
//! errors for input it cannot use.

use std::time::Duration;

use loadgen::capacity::{self, FORMAT};

use crate::helpers::{exclusive, run_loadgen};
use crate::SMOKE_LIMIT;

fn shop_binary() -> std::path::PathBuf {
    fleet::replica::shop_binary()
        .unwrap_or_else(|e| panic!("{e} (`cargo build -p shop` for the debug build)"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_measures_a_shop_under_a_cpu_limit_at_two_request_rates() {
    let _machine = exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("capacity.json");
    let shop = shop_binary();
    let manifest = crate::workspace().join(capacity::limit::DEPLOYMENT);
    let ran = run_loadgen(
        &[
            "capacity",
            "--shop-bin",
            shop.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--cpu-limit",
            "0.5",
            "--start-rps",
            "40",
            "--max-rps",
            "80",
            "--step-duration",
            "3s",
            "--users",
            "4",
            "--output",
            output.to_str().unwrap(),
        ],
        dir.path(),
        SMOKE_LIMIT,
    )
    .await;
    assert!(matches!(ran.code, Some(0 | 1)), "{}", ran.output());
    eprintln!("{}", ran.output());
    let file = capacity::read_file(&output).expect("a capacity file");

    assert_eq!(file.format, FORMAT);
    assert_eq!(file.build.profile, "debug");
    assert_eq!(file.backend, "postgresql");
    assert_eq!(file.cpu.limit_cores, 0.5);
    assert!(
        file.cpu.source.starts_with("--cpu-limit; request from"),
        "{}",
        file.cpu.source
    );
    // The request comes from the shipped Deployment all the same.
    assert_eq!(file.cpu.request_cores, 0.25);
    let names: Vec<&str> = file.objectives.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["availability", "page-latency", "checkout"]);

    let targets: Vec<f64> = file.steps.iter().map(|s| s.target_rps).collect();
    let expected = if ran.code == Some(0) {
        vec![40.0, 80.0]
    } else {
        targets.clone()
    };
    assert_eq!(targets, expected, "{}", ran.output());
    assert_eq!(targets.first(), Some(&40.0));
    for step in &file.steps {
        assert!(step.requests > 0 && step.cpu_cores > 0.0, "{step:?}");
        // The throttle keeps the offered rate: the shop cannot serve more.
        assert!(
            step.requests_per_second <= step.target_rps * 1.2,
            "{step:?}"
        );
        let verdicts: Vec<&str> = step.slis.iter().map(|v| v.slo.as_str()).collect();
        assert_eq!(verdicts, names);
        let availability = &step.slis[0];
        assert_eq!(availability.events as u64, step.requests, "{step:?}");
        assert_eq!(step.held, step.breaches.is_empty());
        assert!(
            ran.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{} ", step.target_rps))),
            "a progress line per step:\n{}",
            ran.output()
        );
    }
    assert_eq!(file.capacity, capacity::best(&file.steps));
    if let Some(best) = &file.capacity {
        assert!(ran
            .stderr
            .contains(&format!("capacity: {} req/s", best.requests_per_second)));
    }
}

#[tokio::test]
async fn a_cpu_limit_the_machine_cannot_give_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ran = run_loadgen(
        &["capacity", "--cpu-limit", "4096"],
        dir.path(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(
        ran.stderr.contains("at most the machine's"),
        "{}",
        ran.output()
    );
}

#[tokio::test]
async fn a_manifest_without_a_cpu_limit_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("deployment.yaml");
    std::fs::write(
        &manifest,
        "kind: Deployment\nspec: {template: {spec: {containers: [{name: shop}]}}}\n",
    )
    .unwrap();
    let ran = run_loadgen(
        &[
            "capacity",
            "--manifest",
            manifest.to_str().unwrap(),
            "--shop-bin",
            shop_binary().to_str().unwrap(),
        ],
        dir.path(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(
        ran.stderr
            .contains("container shop has no resources.limits.cpu"),
        "{}",
        ran.output()
    );
}

#[tokio::test]
async fn hpa_refuses_a_capacity_file_of_another_format_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("capacity.json");
    std::fs::write(
        &old,
        r#"{"tool": "loadgen 0.1.0", "capacity": {"requests_per_second": 5}}"#,
    )
    .unwrap();
    let ran = run_loadgen(
        &[
            "hpa",
            "--capacity",
            old.to_str().unwrap(),
            "--peak-rps",
            "100",
            "-o",
            "-",
        ],
        dir.path(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(
        ran.stderr
            .contains("is not a capacity file of format loadgen-capacity/v2"),
        "{}",
        ran.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_measures_a_shop_running_elsewhere_from_its_own_metrics() {
    let _machine = exclusive().await;
    let shop = crate::helpers::spawn_shop().await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("capacity.json");
    let ran = run_loadgen(
        &[
            "capacity",
            "--host",
            &shop.address,
            "--admin-url",
            &shop.admin_address,
            "--cpu-limit",
            "0.5",
            "--start-rps",
            "40",
            "--max-rps",
            "40",
            "--step-duration",
            "2s",
            "--users",
            "4",
            "--output",
            output.to_str().unwrap(),
        ],
        dir.path(),
        SMOKE_LIMIT,
    )
    .await;
    assert!(matches!(ran.code, Some(0 | 1)), "{}", ran.output());
    let file = capacity::read_file(&output).expect("a capacity file");
    assert_eq!(file.build.profile, "as deployed");
    assert_eq!(file.build.binary, shop.address);
    let [step] = file.steps.as_slice() else {
        panic!("one step: {:?}", file.steps)
    };
    assert!(step.requests > 0, "{step:?}");
    assert_eq!(step.slis[0].events as u64, step.requests, "{step:?}");
}
