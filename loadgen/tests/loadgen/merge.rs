//! `loadgen merge`: the summaries of two real smoke runs (one against a
//! healthy shop, one against a shop failing 5 % of requests), as two pods of
//! an Indexed Job would leave them, added up and judged again.

use std::path::Path;

use serde_json::Value;

use crate::helpers::{error_everywhere, exclusive, read_json, run_loadgen, spawn_shop, Ran};
use crate::SMOKE_LIMIT;

async fn smoke(host: &str, shard: &str, reports: &Path, dir: &Path) -> Ran {
    run_loadgen(
        &[
            "run",
            "--host",
            host,
            "--profile",
            "smoke",
            "--shard",
            shard,
            "--no-request-log",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        dir,
        SMOKE_LIMIT,
    )
    .await
}

async fn merge(dirs: &[&Path], out: &Path, cwd: &Path) -> (Ran, Value) {
    let mut args = vec!["merge", "--report-dir", out.to_str().unwrap()];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
    let ran = run_loadgen(&args, cwd, std::time::Duration::from_secs(30)).await;
    let summary = read_json(&out.join("summary.json"));
    (ran, summary)
}

fn verdict<'a>(summary: &'a Value, objective: &str) -> &'a Value {
    summary["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["objective"] == objective)
        .unwrap_or_else(|| panic!("no {objective} verdict: {summary:#}"))
}

fn held(summary: &Value) -> Vec<(String, bool)> {
    summary["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["objective"].as_str().unwrap().to_string(),
                v["held"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn count(value: &Value) -> u64 {
    value.as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_summaries_add_up_and_get_the_verdict_the_gate_gives() {
    let _machine = exclusive().await;
    let healthy = spawn_shop().await;
    let failing = spawn_shop().await;
    let mut fault = error_everywhere(300);
    fault.probability = 0.05;
    failing.inject(&fault).await;
    let dir = tempfile::tempdir().unwrap();
    // Each run has all of the smoke profile's users (a shard of one): two
    // shards of one profile would leave each too few users for every route.
    let reports = dir.path().join("reports");
    let (a, b) = (reports.join("shard-0"), reports.join("shard-1"));
    let (ran_a, ran_b) = tokio::join!(
        smoke(&healthy.address, "0/1", &a, dir.path()),
        smoke(&failing.address, "0/1", &b, dir.path())
    );
    assert_eq!(ran_a.code, Some(0), "{}", ran_a.output());
    assert_eq!(ran_b.code, Some(1), "{}", ran_b.output());
    let (sa, sb) = (
        read_json(&a.join("summary.json")),
        read_json(&b.join("summary.json")),
    );
    let plan = sa["test_plan"].as_str().unwrap();
    assert!(plan.ends_with("(shard 0/1 of the users)"), "{plan}");

    // One summary merged alone is judged as the run judged itself.
    let (alone_a, merged_a) = merge(&[&a], &dir.path().join("only-0"), dir.path()).await;
    assert_eq!(alone_a.code, Some(0), "{}", alone_a.output());
    assert_eq!(held(&merged_a), held(&sa));
    let (alone_b, merged_b) = merge(&[&b], &dir.path().join("only-1"), dir.path()).await;
    assert_eq!(alone_b.code, Some(1), "{}", alone_b.output());
    assert_eq!(held(&merged_b), held(&sb));

    // Both: the sums, and the failing half breaches the whole.
    let out = dir.path().join("merged");
    let (ran, merged) = merge(&[&a, &b], &out, dir.path()).await;
    assert_eq!(ran.code, Some(1), "{}", ran.output());
    assert!(
        ran.stderr.contains("SLO availability breached"),
        "{}",
        ran.output()
    );
    assert_eq!(merged["passed"], false);
    for field in ["requests", "failures"] {
        assert_eq!(
            count(&merged[field]),
            count(&sa[field]) + count(&sb[field]),
            "{field}"
        );
    }
    for objective in ["availability", "page-latency", "checkout"] {
        let (m, x, y) = (
            verdict(&merged, objective),
            verdict(&sa, objective),
            verdict(&sb, objective),
        );
        for field in ["good", "total"] {
            assert_eq!(
                count(&m[field]),
                count(&x[field]) + count(&y[field]),
                "{objective} {field}"
            );
        }
    }
    let availability = verdict(&merged, "availability");
    let measured = availability["measured_percent"].as_f64().unwrap();
    assert!(measured < 99.9, "{availability:#}");
    assert!(
        measured
            > verdict(&sb, "availability")["measured_percent"]
                .as_f64()
                .unwrap()
    );
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        markdown.contains("merged from 2 loadgen runs"),
        "{markdown}"
    );

    // The directory holding both, as an Indexed Job's volume does, is the same.
    let (by_parent, parent) = merge(&[&reports], &dir.path().join("parent"), dir.path()).await;
    assert_eq!(by_parent.code, Some(1), "{}", by_parent.output());
    assert_eq!(parent["verdicts"], merged["verdicts"]);
    assert_eq!(parent["requests"], merged["requests"]);
}

#[tokio::test]
async fn a_directory_without_a_summary_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ran = run_loadgen(
        &["merge", "--report-dir", "out", "nothing-here"],
        dir.path(),
        std::time::Duration::from_secs(30),
    )
    .await;
    assert_eq!(ran.code, Some(2), "{}", ran.output());
    assert!(
        ran.stderr.contains("could not read nothing-here"),
        "{}",
        ran.output()
    );
}
