//! The committed rules in a real Prometheus, scraping a real shop, with a real
//! error fault injected through the admin API.
//!
//! What a minute can prove: the rules load and evaluate without error against
//! the shop's real series; the availability SLI reads 0 (not absent) while
//! the shop is healthy and nothing pages; once every request fails, the SLI
//! climbs and the fast page (tier 1h_5m, no `for:`) turns active; the fault
//! alert sees the fault (pending: its `for:` is 30 minutes); the SLOs without
//! traffic (checkout) stay quiet. The timing of the slower pairs, which need
//! hours of data, is proven by the promtool suites instead.

use std::time::{Duration, Instant};

use alerts::generate::{Options, DEFAULT_RUNBOOK_BASE_URL, SLO_RULES_FILE, SYMPTOM_RULES_FILE};
use fleet::prometheus::{Alert, Config, Prometheus};
use shop::{configuration::Settings, startup::Application};
use shop_contract::faults::{FaultCreated, FaultKind, FaultSpec, ANY_ROUTE};

use crate::helpers::{crate_dir, generate_shipped, parse};

const PATIENCE: Duration = Duration::from_secs(60);
const AVAILABILITY_SLI: &str = r#"slo:sli_error:ratio_rate5m{sloth_slo="availability"}"#;

/// Shoppers browsing: a request every 50 ms, at most 3000 of them.
async fn shoppers(base: String) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let pages = ["/", "/search?q=knife", "/cart", "/api/v1/products"];
    for i in 0..3000 {
        let _ = client
            .get(format!("{base}{}", pages[i % pages.len()]))
            .send()
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the active alerts until one satisfies `wanted`.
async fn wait_for_alert(prometheus: &Prometheus, wanted: impl Fn(&Alert) -> bool) -> Alert {
    let started = Instant::now();
    loop {
        let alerts = prometheus.alerts().await.unwrap();
        if let Some(alert) = alerts.iter().find(|a| wanted(a)) {
            return alert.clone();
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no such alert within {PATIENCE:?}; active: {alerts:#?}\nPrometheus log:\n{}",
            prometheus.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn names(alerts: &[Alert]) -> Vec<String> {
    alerts
        .iter()
        .map(|a| format!("{} {}", a.name(), a.state))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_error_storm_makes_the_availability_page_alert_fire_in_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::ephemeral(&format!("sqlite://{}/shop.db", dir.path().display()));
    let token = settings
        .admin_token
        .clone()
        .expect("ephemeral settings set an admin token");
    let app = Application::build(settings).await.expect("the shop builds");
    let public = format!("http://127.0.0.1:{}", app.port());
    let admin = format!("127.0.0.1:{}", app.admin_port());
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());

    let generated = crate_dir().join("generated");
    let config = Config::scraping([admin.clone()])
        .rule_file(generated.join(SLO_RULES_FILE))
        .rule_file(generated.join(SYMPTOM_RULES_FILE));
    let prometheus = Prometheus::start(config).await.unwrap();
    let traffic = tokio::spawn(shoppers(public));

    // Healthy: the SLI is 0, not absent (the `or vector(0)` in the spec), and nothing pages.
    prometheus
        .wait_until(
            AVAILABILITY_SLI,
            |s| s.len() == 1 && s[0].value == 0.0,
            PATIENCE,
        )
        .await
        .unwrap();
    let alerts = prometheus.alerts().await.unwrap();
    assert!(
        !alerts.iter().any(|a| !a.label("sloth_slo").is_empty()),
        "a healthy shop has no SLO alert: {:?}",
        names(&alerts)
    );

    let created: FaultCreated = reqwest::Client::new()
        .post(format!("http://{admin}/admin/faults"))
        .bearer_auth(&token)
        .json(&FaultSpec {
            kind: FaultKind::Error,
            target: Default::default(),
            route: ANY_ROUTE.into(),
            probability: 1.0,
            latency_ms: None,
            status: Some(500),
            duration_seconds: 300,
        })
        .send()
        .await
        .unwrap()
        .error_for_status()
        .expect("the fault API accepts the fault")
        .json()
        .await
        .unwrap();
    assert!(!created.id.is_empty());

    // The SLI sees the storm...
    prometheus
        .wait_until(
            AVAILABILITY_SLI,
            |s| s.len() == 1 && s[0].value > 0.5,
            PATIENCE,
        )
        .await
        .unwrap();

    // ...and the fast page pair turns the page alert active.
    let page = wait_for_alert(&prometheus, |a| {
        a.name() == "ShopAvailabilityBudgetBurn"
            && a.label("severity") == "page"
            && a.label("tier") == "1h_5m"
    })
    .await;
    assert!(
        page.state == "pending" || page.state == "firing",
        "{page:?}"
    );
    assert_eq!(page.label("sloth_slo"), "availability");
    assert_eq!(page.label("sloth_severity"), "page");
    assert_eq!(
        page.annotations["runbook_url"],
        format!("{DEFAULT_RUNBOOK_BASE_URL}ShopAvailabilityBudgetBurn.md")
    );

    // The forgotten-fault alert sees the fault; its 30-minute `for:` keeps it pending.
    let fault = wait_for_alert(&prometheus, |a| a.name() == "ShopFaultInjectionLeftActive").await;
    assert_eq!(fault.state, "pending");
    assert_eq!(
        (fault.label("kind"), fault.label("http_route")),
        ("error", ANY_ROUTE)
    );

    // No checkout happened: its SLI is 0/0 = NaN, which must not page.
    let alerts = prometheus.alerts().await.unwrap();
    assert!(
        !alerts.iter().any(|a| a.name() == "ShopCheckoutBudgetBurn"),
        "{:?}",
        names(&alerts)
    );
    let checkout = prometheus
        .query(r#"slo:sli_error:ratio_rate5m{sloth_slo="checkout"}"#)
        .await
        .unwrap();
    assert!(checkout.iter().all(|s| s.value.is_nan()), "{checkout:?}");

    // Every rule evaluated against the shop's real series without an error.
    let rules = prometheus.rules().await.unwrap();
    let committed: usize = parse(&generate_shipped(&Options::default()))
        .iter()
        .map(|file| file.groups.iter().map(|g| g.rules.len()).sum::<usize>())
        .sum();
    assert_eq!(
        rules.len(),
        committed,
        "Prometheus loaded every committed rule"
    );
    let broken: Vec<_> = rules.iter().filter(|r| r.health == "err").collect();
    assert!(broken.is_empty(), "rules failing on real data: {broken:#?}");

    traffic.abort();
    stopper.stop();
}
