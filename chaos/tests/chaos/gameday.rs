//! The game day end to end, with a real Prometheus, the real shop and
//! loadgen binaries, and the shipped quick scenario.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use chaos::gameday::{self, report::Report, Backend};
use tokio_util::sync::CancellationToken;

/// Two game days at once on two cores would blur each other's timings.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("chaos/ is in the workspace")
}

/// The directory of the `shop-chaos` binary, where `cargo test --workspace` has
/// also built `shop` and `loadgen`; built here when missing (`cargo test -p
/// chaos` alone does not build other packages' binaries).
fn bin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_shop-chaos"))
        .parent()
        .expect("the binary is in a directory")
        .to_path_buf();
    if !(dir.join("shop").is_file() && dir.join("loadgen").is_file()) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "shop", "-p", "loadgen"])
            .current_dir(workspace())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building shop and loadgen failed");
    }
    dir
}

fn options(scenario: PathBuf, out: &Path) -> gameday::Options {
    gameday::Options {
        scenario,
        backend: Backend::Sqlite,
        replicas: 1,
        database_url: None,
        out: out.to_path_buf(),
        bin_dir: bin_dir(),
        rules: workspace().join("alerts/generated"),
        alertmanager_config: workspace().join("alerts/alertmanager.yml"),
        interrupt: CancellationToken::new(),
        quiet: false,
    }
}

fn verdict<'a>(report: &'a Report, step: &str, expectation: &str) -> &'a gameday::verdict::Verdict {
    report
        .verdicts
        .iter()
        .find(|v| v.step == step && v.expectation == expectation)
        .unwrap_or_else(|| {
            panic!(
                "no verdict `{expectation}` for step {step}: {:#?}",
                report.verdicts
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_game_day_sees_every_alert_fire_and_resolve_and_loses_no_order() {
    let _one = ONE_AT_A_TIME.lock().await;
    let out = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("gameday/quick.yaml");
    let finished = gameday::run(options(scenario, out.path()))
        .await
        .expect("the game day runs");
    let report = &finished.report;
    let failed: Vec<_> = report.failed().collect();
    assert!(failed.is_empty(), "failed expectations: {failed:#?}");

    for (step, alert) in [
        ("error-storm", "ShopAvailabilityBudgetBurn (page)"),
        ("slow-database", "ShopPageLatencyBudgetBurn (page)"),
        ("database-outage", "ShopNotReady"),
        ("database-outage", "ShopAvailabilityBudgetBurn (page)"),
        ("database-outage", "ShopCheckoutBudgetBurn (page)"),
    ] {
        let fired = verdict(report, step, &format!("{alert} fires"));
        assert!(
            fired.passed && fired.measured.starts_with("fired after"),
            "{fired:?}"
        );
        let resolved = verdict(report, step, &format!("{alert} resolves"));
        assert!(
            resolved.passed && resolved.measured.starts_with("resolved after"),
            "{resolved:?}"
        );
    }
    // Every page reached the pager, and its resolved notice followed.
    for (step, alert) in [
        ("error-storm", "ShopAvailabilityBudgetBurn (page)"),
        ("slow-database", "ShopPageLatencyBudgetBurn (page)"),
        ("database-outage", "ShopCheckoutBudgetBurn (page)"),
    ] {
        let delivered = verdict(report, step, &format!("{alert} reaches shop-pager"));
        assert!(delivered.passed, "{delivered:?}");
        let fired = verdict(report, step, &format!("{alert} fires"));
        assert!(
            fired
                .notified
                .as_deref()
                .is_some_and(|n| n.ends_with("after the fault's start, to shop-pager")),
            "{fired:?}"
        );
        let resolved = verdict(report, step, &format!("{alert} resolves"));
        assert!(
            resolved
                .resolved_notice
                .as_deref()
                .is_some_and(|n| n.contains("after the fault's end")),
            "{resolved:?}"
        );
    }
    let orders = verdict(report, "database-outage", "no acknowledged order is lost");
    assert!(
        orders.passed && orders.measured.contains(" acknowledged orders found"),
        "{orders:?}"
    );
    let drill = verdict(
        report,
        "graceful-shutdown",
        "probe `in-flight-requests-all-answered` passes",
    );
    assert!(drill.passed, "{drill:?}");

    let markdown = std::fs::read_to_string(&finished.report_path).unwrap();
    assert!(markdown.contains("**PASSED**"), "{markdown}");
    assert!(markdown.contains("| Notified at |"), "{markdown}");
    assert!(
        markdown.contains("ShopAvailabilityBudgetBurn delivered to shop-pager"),
        "{markdown}"
    );
    assert!(out.path().join("report.html").is_file());
    assert_eq!(report.charts.len(), 5, "{:?}", report.charts);
    for chart in &report.charts {
        let png = std::fs::read(out.path().join(&chart.file)).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{} is not a PNG", chart.file);
    }
    let load = report.load.as_ref().expect("a loadgen summary");
    assert!(load.requests > 100, "{load:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_game_day_on_three_replicas_kills_one_and_raises_a_ticket_not_a_page() {
    let _one = ONE_AT_A_TIME.lock().await;
    let database = fleet::postgres::fresh_database("gameday_fleet").await;
    let out = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("gameday/quick.yaml");
    let options = gameday::Options {
        backend: Backend::Postgres,
        database_url: Some(database.clone()),
        replicas: 3,
        ..options(scenario, out.path())
    };
    let finished = gameday::run(options).await;
    let _ = fleet::postgres::drop_database(&database).await;
    let finished = finished.expect("the game day runs");
    let report = &finished.report;
    let failed: Vec<_> = report.failed().collect();
    assert!(failed.is_empty(), "failed expectations: {failed:#?}");

    let ticket = verdict(report, "replica-kill", "ShopInstanceDown (ticket) fires");
    assert!(ticket.measured.starts_with("fired after"), "{ticket:?}");
    let resolved = verdict(report, "replica-kill", "ShopInstanceDown (ticket) resolves");
    assert!(
        resolved.measured.starts_with("resolved after"),
        "{resolved:?}"
    );
    let quiet = verdict(
        report,
        "replica-kill",
        "ShopAvailabilityBudgetBurn (page) stays quiet",
    );
    assert!(
        quiet
            .measured
            .starts_with("never fired: the worst 1h error ratio was"),
        "{quiet:?}"
    );
    let orders = verdict(report, "replica-kill", "no acknowledged order is lost");
    assert!(
        orders.measured.contains(" acknowledged orders found"),
        "{orders:?}"
    );
    // The fleet's other steps hold as the single shop's do.
    let outage = verdict(report, "database-outage", "ShopNotReady fires");
    assert!(outage.passed, "{outage:?}");
    assert!(report
        .charts
        .iter()
        .any(|c| c.file == "charts/request-rate-per-replica.png"));
    let markdown = std::fs::read_to_string(&finished.report_path).unwrap();
    assert!(
        markdown.contains("3 shop replicas behind HAProxy"),
        "{markdown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_routed_away_from_the_pager_fails_its_step_and_the_report_names_where_it_went() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    // The shipped routing with one mistake: pages go to the ticket queue.
    let shipped = std::fs::read_to_string(workspace().join("alerts/alertmanager.yml")).unwrap();
    let misrouted = shipped.replacen("receiver: shop-pager", "receiver: shop-tickets", 1);
    assert_ne!(misrouted, shipped, "the shipped routing has no pager route");
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(&config, misrouted).unwrap();
    let scenario = dir.path().join("storm.yaml");
    std::fs::write(
        &scenario,
        format!(
            "title: One error storm\n\
             time-scale: 60\n\
             warm-up-seconds: 5\n\
             load: {{ users: 4, requests-per-second: 10, orders-per-second: 0 }}\n\
             steps:\n\
             - name: error-storm\n\
             \x20 experiment: {}\n\
             \x20 alerts:\n\
             \x20   - alert: ShopAvailabilityBudgetBurn\n\
             \x20     severity: page\n\
             \x20     fire-within: 20\n\
             \x20     resolve-within: 45\n",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("experiments/error-storm.yaml")
                .display()
        ),
    )
    .unwrap();
    let out = dir.path().join("report");
    let options = gameday::Options {
        alertmanager_config: config,
        ..options(scenario, &out)
    };

    let finished = gameday::run(options).await.expect("the game day runs");

    let report = &finished.report;
    let fired = verdict(
        report,
        "error-storm",
        "ShopAvailabilityBudgetBurn (page) fires",
    );
    assert!(fired.passed, "{fired:?}");
    let delivered = verdict(
        report,
        "error-storm",
        "ShopAvailabilityBudgetBurn (page) reaches shop-pager",
    );
    assert!(!delivered.passed, "{delivered:?}");
    assert!(
        delivered
            .measured
            .contains("no notification reached shop-pager (it went to shop-tickets)"),
        "{delivered:?}"
    );
    assert!(!finished.passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_the_fault_cannot_raise_fails_the_game_day_and_the_report_names_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("impossible.yaml");
    // Slow queries make pages slow, never 5xx: the availability alert
    // cannot fire.
    let experiment = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/slow-queries.yaml");
    std::fs::write(
        &scenario,
        format!(
            "title: An impossible expectation\n\
             time-scale: 60\n\
             warm-up-seconds: 5\n\
             load: {{ users: 4, requests-per-second: 10, orders-per-second: 0 }}\n\
             steps:\n\
             - name: slow-but-available\n\
             \x20 experiment: {}\n\
             \x20 alerts:\n\
             \x20   - alert: ShopAvailabilityBudgetBurn\n\
             \x20     severity: page\n\
             \x20     fire-within: 8\n\
             \x20     resolve-within: 5\n",
            experiment.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("report");
    let _ = bin_dir();
    let output = Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
        .args(["gameday", "--scenario"])
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .arg("--rules")
        .arg(workspace().join("alerts/generated"))
        .output()
        .expect("chaos runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(
            "failed: slow-but-available: ShopAvailabilityBudgetBurn (page) fires: never fired"
        ),
        "{stderr}"
    );
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(markdown.contains("**FAILED**"), "{markdown}");
    assert!(
        markdown.contains("| slow-but-available | ShopAvailabilityBudgetBurn (page) fires | within 8 s of the fault's start | never fired | not delivered |  | FAIL |"),
        "{markdown}"
    );
}
