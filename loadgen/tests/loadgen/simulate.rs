//! `loadgen hpa --simulate`: the binary on the committed HPA and capacity,
//! its files, and its exit codes.

use std::time::Duration;

use crate::helpers::{read_json, run_loadgen};
use crate::workspace;

const LIMIT: Duration = Duration::from_secs(60);

async fn simulate(args: &[&str], dir: &std::path::Path) -> crate::helpers::Ran {
    let root = workspace();
    let hpa = root.join("k8s/base/hpa.yaml");
    let capacity = root.join("k8s/base/capacity.json");
    let mut all = vec!["hpa", "--hpa", hpa.to_str().unwrap()];
    if !args.contains(&"--capacity") {
        all.extend(["--capacity", capacity.to_str().unwrap()]);
    }
    all.extend_from_slice(args);
    run_loadgen(&all, dir, LIMIT).await
}

#[tokio::test]
async fn a_ramp_the_committed_hpa_follows_holds_and_writes_json_and_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ran = simulate(
        &["--simulate", "ramp", "--report-dir", out.to_str().unwrap()],
        dir.path(),
    )
    .await;
    assert_eq!(ran.code, Some(0), "{}", ran.output());
    assert!(
        ran.stderr.contains("SLO availability (99.9 %): held"),
        "{}",
        ran.output()
    );
    let json = read_json(&out.join("simulation.json"));
    assert_eq!(json["held"], true);
    assert_eq!(json["sync_period_seconds"], 15);
    let timeline = json["timeline"].as_array().unwrap();
    // 1801 seconds, one tick per sync.
    assert_eq!(timeline.len(), 121);
    let replicas: Vec<u64> = timeline
        .iter()
        .map(|t| t["replicas"].as_u64().unwrap())
        .collect();
    assert!(replicas.iter().max() > replicas.first(), "{replicas:?}");
    let png = std::fs::read(out.join("simulation.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[tokio::test]
async fn a_spike_faster_than_the_pods_start_breaches_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("burst.csv");
    std::fs::write(
        &csv,
        "seconds,requests_per_second\n0,1000\n60,1000\n61,20000\n600,20000\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let ran = simulate(
        &[
            "--simulate",
            csv.to_str().unwrap(),
            "--pod-startup",
            "2m",
            "--report-dir",
            out.to_str().unwrap(),
        ],
        dir.path(),
    )
    .await;
    assert_eq!(ran.code, Some(1), "{}", ran.output());
    assert!(
        ran.stderr.contains("SLO availability (99.9 %): BREACHED"),
        "{}",
        ran.output()
    );
    let json = read_json(&out.join("simulation.json"));
    assert_eq!(json["held"], false);
    assert!(json["bad_requests"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn bad_inputs_exit_2_with_a_one_line_reason() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, "0,100\n10,many\n").unwrap();
    let not_capacity = dir.path().join("other.json");
    std::fs::write(&not_capacity, "{\"format\": \"something else\"}").unwrap();
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec!["--simulate", broken.to_str().unwrap()],
            "line 2: \"many\" is not a rate of 0 or more",
        ),
        (vec!["--simulate", "tsunami"], "neither a built-in profile"),
        (
            vec!["--simulate", "spike", "--peak-rps", "50"],
            "below one replica's capacity",
        ),
        (
            vec![
                "--simulate",
                "spike",
                "--capacity",
                not_capacity.to_str().unwrap(),
            ],
            "is not a capacity file written by `loadgen capacity`: missing field `capacity`",
        ),
    ];
    for (args, expected) in cases {
        let ran = simulate(&args, dir.path()).await;
        assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.output());
        assert!(ran.stderr.contains(expected), "{args:?}: {}", ran.output());
        assert!(!ran.stderr.contains("panicked"), "{}", ran.output());
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.output());
    }
}
