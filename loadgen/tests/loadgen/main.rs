//! `loadgen` end to end: the binary against a real shop on SQLite, on
//! loopback, bounded in time.

mod adapter;
mod helpers;
mod measurement;
mod merge;
mod simulate;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use helpers::{exclusive, read_json, run_loadgen, spawn_shop};
use loadgen::capacity::{self, CapacityFile};
use loadgen::hpa::{self, HpaInput};
use loadgen::profiles::Profile;
use loadgen::routes::{self, Route};
use loadgen::scenarios::{self, UserType};

pub(crate) const SMOKE_LIMIT: Duration = Duration::from_secs(180);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The named transactions of a user type: every route it requests except
/// the stylesheet and images a page loads along with it.
fn transactions(user_type: &UserType) -> BTreeSet<String> {
    user_type
        .routes
        .iter()
        .filter(|r| r.kind != routes::RouteKind::Static)
        .map(Route::key)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_passes_against_a_healthy_shop_and_the_shop_sees_every_route() {
    let _machine = exclusive().await;
    let shop = spawn_shop().await;
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let ran = run_loadgen(
        &[
            "run",
            "--host",
            &shop.address,
            "--profile",
            "smoke",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        dir.path(),
        SMOKE_LIMIT,
    )
    .await;
    assert_eq!(ran.code, Some(0), "{}", ran.output());

    for file in [
        "report.html",
        "report.json",
        "summary.md",
        "summary.json",
        "requests.json",
    ] {
        let path = reports.join(file);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(size > 0, "{} is missing or empty", path.display());
    }
    let goose_report = read_json(&reports.join("report.json"));
    assert!(goose_report.is_object(), "Goose's JSON report is an object");

    let summary = read_json(&reports.join("summary.json"));
    assert_eq!(summary["passed"], true, "{summary:#}");
    assert!(
        ran.stderr.contains("SLO availability held"),
        "{}",
        ran.output()
    );

    // Every transaction of every user type ran, and none failed.
    for user_type in scenarios::USER_TYPES {
        for name in transactions(user_type) {
            let row = summary["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["scenario"] == user_type.name && t["name"] == name.as_str());
            let row = row.unwrap_or_else(|| {
                panic!("{} never ran {name}:\n{}", user_type.name, ran.output())
            });
            assert!(row["runs"].as_u64().unwrap() >= 1, "{row}");
            assert_eq!(row["failures"], 0, "{row}");
        }
    }

    // Every route was requested, and the shop counted at least as many
    // requests under the same method and route pattern.
    let served = shop.served().await;
    for route in routes::ALL {
        let sent = summary["per_request"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == route.key().as_str())
            .and_then(|r| r["requests"].as_f64())
            .unwrap_or(0.0);
        assert!(sent >= 1.0, "loadgen never requested {}", route.key());
        let key = (route.method.as_str().to_string(), route.pattern.to_string());
        let counted = served.get(&key).copied().unwrap_or(0.0);
        assert!(
            counted >= sent,
            "the shop counted {counted} requests for {key:?}, loadgen sent {sent}; the shop saw: {:?}",
            served.keys().collect::<Vec<_>>()
        );
    }

    // Each request carried a traceparent, kept in the request log.
    let log = std::fs::read_to_string(reports.join("requests.json")).unwrap();
    let first = log.lines().next().expect("a request in the log");
    assert!(first.contains("traceparent"), "{first}");
    let markdown = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    for needle in [
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "| availability |",
        "`GET /product/{slug}`",
    ] {
        assert!(
            markdown.contains(needle),
            "summary.md lacks {needle}:\n{markdown}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_fault_breaches_availability_and_exits_1() {
    let _machine = exclusive().await;
    let shop = spawn_shop().await;
    shop.inject(&helpers::error_everywhere(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let ran = run_loadgen(
        &[
            "run",
            "--host",
            &shop.address,
            "--profile",
            "smoke",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        dir.path(),
        SMOKE_LIMIT,
    )
    .await;
    assert_eq!(ran.code, Some(1), "{}", ran.output());
    assert!(
        ran.stderr.contains("SLO availability breached"),
        "{}",
        ran.output()
    );

    let summary = read_json(&reports.join("summary.json"));
    assert_eq!(summary["passed"], false);
    let availability = summary["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["objective"] == "availability")
        .expect("an availability verdict");
    assert_eq!(availability["held"], false, "{availability:#}");
    assert!(
        availability["measured_percent"].as_f64().unwrap() < 99.9,
        "{availability:#}"
    );
    let markdown = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    assert!(markdown.contains("| availability |"), "{markdown}");
    assert!(
        markdown.contains("**BREACHED**: `error-rate<0.1%`"),
        "{markdown}"
    );
}

#[tokio::test]
async fn hpa_from_a_fixed_capacity_file_sets_the_expected_replicas_and_targets() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("hpa.yaml");
    let fixture = fixture("capacity.json");
    let ran = run_loadgen(
        &[
            "hpa",
            "--capacity",
            fixture.to_str().unwrap(),
            "--peak-rps",
            "1000",
            "--output",
            output.to_str().unwrap(),
        ],
        dir.path(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(ran.code, Some(0), "{}", ran.output());
    let yaml = std::fs::read_to_string(&output).unwrap();
    let hpa: serde_yaml::Value = serde_yaml::from_str(&yaml).expect("YAML");

    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["kind"], "HorizontalPodAutoscaler");
    let spec = &hpa["spec"];
    assert_eq!(spec["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(spec["scaleTargetRef"]["name"], "shop");
    // 412.5 req/s measured × 0.7 headroom = 288 per replica; a 1000 req/s
    // peak needs 4 replicas; the maximum covers 1.5 × the peak: 6.
    assert_eq!(spec["minReplicas"], 2);
    assert_eq!(spec["maxReplicas"], 6);
    assert_eq!(spec["metrics"][0]["type"], "Pods");
    assert_eq!(
        spec["metrics"][0]["pods"]["metric"]["name"],
        hpa::REQUEST_RATE_METRIC
    );
    assert_eq!(spec["metrics"][0]["pods"]["target"]["type"], "AverageValue");
    assert_eq!(spec["metrics"][0]["pods"]["target"]["averageValue"], "288");
    assert_eq!(spec["metrics"][1]["resource"]["name"], "cpu");
    // 0.9 cores at capacity × 0.7 is 252 % of the pod's 0.25-core request.
    assert_eq!(
        spec["metrics"][1]["resource"]["target"]["averageUtilization"],
        252
    );

    let annotations = &hpa["metadata"]["annotations"];
    assert_eq!(
        annotations["loadgen.shop.dev/measured-capacity-rps"],
        "412.5"
    );
    assert_eq!(annotations["loadgen.shop.dev/measured-cpu-cores"], "0.9");
    assert_eq!(
        annotations["loadgen.shop.dev/measured-at"],
        "2025-06-01T12:00:00Z"
    );
    assert!(annotations["loadgen.shop.dev/slo"]
        .as_str()
        .unwrap()
        .contains("availability 99.9 %"));
    assert_eq!(annotations["loadgen.shop.dev/peak-rps"], "1000");
}

#[tokio::test]
async fn hpa_refuses_a_headroom_above_one_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture("capacity.json");
    let ran = run_loadgen(
        &[
            "hpa",
            "--capacity",
            fixture.to_str().unwrap(),
            "--peak-rps",
            "10",
            "--headroom",
            "1.5",
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
            .contains("--headroom must be above 0 and at most 1"),
        "{}",
        ran.output()
    );
}

#[test]
fn the_committed_hpa_is_what_loadgen_generates_from_the_committed_measurement() {
    let root = workspace();
    let committed =
        std::fs::read_to_string(root.join("k8s/base/hpa.yaml")).expect("k8s/base/hpa.yaml");
    let (peak_rps, headroom, min_replicas, max_replicas) =
        hpa::recorded_inputs(&committed).expect("the committed HPA records its inputs");
    let measurement: CapacityFile =
        capacity::read_file(&root.join("k8s/base/capacity.json")).expect("k8s/base/capacity.json");
    let regenerated = hpa::manifest(&HpaInput {
        capacity: &measurement,
        capacity_path: "k8s/base/capacity.json",
        peak_rps,
        headroom,
        min_replicas,
        max_replicas,
        deployment: "shop",
    })
    .expect("an HPA");
    assert!(
        committed == regenerated,
        "k8s/base/hpa.yaml is stale; regenerate it with\n  cargo run -p loadgen -- hpa --capacity k8s/base/capacity.json --peak-rps {peak_rps} --headroom {headroom} --min-replicas {min_replicas} --max-replicas {max_replicas}\n--- committed ---\n{committed}\n--- generated ---\n{regenerated}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_on_one_thread_counts_the_requests_the_shop_served() {
    let _machine = exclusive().await;
    let shop = spawn_shop().await;
    let dir = tempfile::tempdir().unwrap();
    let users = 4;
    let ran = run_loadgen(
        &[
            "--threads",
            "1",
            "flood",
            "--host",
            &shop.address,
            "--path",
            "/product/chefs-knife",
            "--users",
            &users.to_string(),
            "--run-time",
            "2s",
        ],
        dir.path(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(ran.code, Some(0), "{}", ran.output());
    let result: serde_json::Value =
        serde_json::from_str(ran.stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}: {}", ran.output()));
    let requests = result["requests"].as_f64().unwrap();
    assert!(requests > 0.0, "{result}");
    assert_eq!(result["failures"], 0, "{result}");
    // Each user may leave one request unanswered when the flood stops.
    let served = shop.served().await[&("GET".to_string(), "/product/{slug}".to_string())];
    assert!(
        (requests..=requests + f64::from(users)).contains(&served),
        "the shop served {served}, the flood counted {requests}"
    );
}

#[tokio::test]
async fn zero_threads_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let ran = run_loadgen(
        &["--threads", "0", "flood", "--host", "http://127.0.0.1:9"],
        dir.path(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(ran.stderr.contains("--threads"), "{}", ran.output());
}

#[tokio::test]
async fn a_host_that_does_not_answer_is_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on a port just taken and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("http://127.0.0.1:{port}");
    let ran = run_loadgen(
        &["run", "--host", &host, "--profile", "smoke"],
        dir.path(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(
        ran.stderr.contains(&format!("cannot reach {host}")),
        "{}",
        ran.output()
    );
    assert!(
        !dir.path().join("reports").exists(),
        "no report for a run that never started"
    );
}

#[tokio::test]
async fn run_help_lists_every_profile_with_its_test_plan() {
    let dir = tempfile::tempdir().unwrap();
    let ran = run_loadgen(&["run", "--help"], dir.path(), Duration::from_secs(30)).await;
    assert_eq!(ran.code, Some(0), "{}", ran.output());
    for profile in Profile::ALL {
        assert!(
            ran.stdout.contains(&format!("{}:", profile.name())),
            "{}",
            ran.stdout
        );
        assert!(
            ran.stdout.contains(profile.test_plan()),
            "{} missing from\n{}",
            profile.test_plan(),
            ran.stdout
        );
    }
}

#[tokio::test]
async fn a_usage_error_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ran = run_loadgen(
        &["run", "--profile", "smoke"],
        dir.path(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(
        ran.stderr.contains("--host is required"),
        "{}",
        ran.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_run_and_still_writes_the_reports() {
    let _machine = exclusive().await;
    let shop = spawn_shop().await;
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let child = helpers::loadgen(
        &[
            "run",
            "--host",
            &shop.address,
            "--profile",
            "load",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        dir.path(),
    )
    .spawn()
    .expect("loadgen starts");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let pid = child.id().expect("still running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let ran = helpers::finish(child, Duration::from_secs(60)).await;
    // Whatever the verdict on a few seconds of load, the run ended by itself
    // (not by a signal) and reported.
    assert!(matches!(ran.code, Some(0 | 1)), "{}", ran.output());
    let summary = read_json(&reports.join("summary.json"));
    assert_eq!(summary["interrupted"], true, "{summary:#}");
    assert!(summary["requests"].as_u64().unwrap() > 0, "{summary:#}");
    assert!(reports.join("report.html").exists());
    assert!(
        ran.stderr.contains("interrupted with Ctrl-C"),
        "{}",
        ran.output()
    );
}
