//! The shipped `alerts/alertmanager.yml` in a real Alertmanager, fed by a real
//! Prometheus, delivering to two webhooks of this test: the pager and the
//! ticket queue.
//!
//! The alerts are the committed ones (names, labels and annotations as in
//! `alerts/generated/`), with each expression replaced by a synthetic series
//! that this test switches on and off, and no `for:`: what would take hours
//! of burning budget takes a second. Only the waits of the configuration are
//! shortened (`group_wait`, `group_interval`); routes, grouping and
//! inhibition are the shipped ones.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use alerts::rules::{RuleFile, RuleGroup};
use axum::{extract::State, routing::get, Router};
use fleet::{
    alertmanager::{self, Alertmanager, Notification, Webhook},
    prometheus::{self, Prometheus},
};

use crate::helpers::crate_dir;

const PATIENCE: Duration = Duration::from_secs(20);

/// The alerts the test drives: `(alertname, tier)`.
const DRIVEN: [(&str, Option<&str>); 7] = [
    ("ShopDown", None),
    ("ShopInstanceDown", None),
    ("ShopDatabasePoolSaturated", None),
    ("ShopAvailabilityBudgetBurn", Some("1h_5m")),
    ("ShopAvailabilityBudgetBurn", Some("6h_30m")),
    ("ShopAvailabilityBudgetBurn", Some("1d_2h")),
    ("ShopCheckoutBudgetBurn", Some("1h_5m")),
];

/// The committed alerting rules named in [`DRIVEN`], each firing while the
/// series `shop_synthetic_alert{synthetic="<alertname>/<tier>"}` is present.
fn synthetic_rules() -> String {
    let mut rules = Vec::new();
    for file in ["slo-rules.yaml", "symptom-rules.yaml"] {
        let text = std::fs::read_to_string(crate_dir().join("generated").join(file)).unwrap();
        let parsed = RuleFile::from_yaml(&text).unwrap();
        for rule in parsed.alerts() {
            let name = rule.alert.as_deref().unwrap();
            let tier = rule.labels.get("tier").map(String::as_str);
            if DRIVEN.contains(&(name, tier)) {
                let mut rule = rule.clone();
                rule.expr = format!("shop_synthetic_alert{{synthetic={:?}}}", key(name, tier));
                rule.for_ = None;
                rules.push(rule);
            }
        }
    }
    assert_eq!(rules.len(), DRIVEN.len(), "a driven alert is not committed");
    let file = RuleFile {
        groups: vec![RuleGroup {
            name: "synthetic".into(),
            interval: None,
            rules,
        }],
    };
    file.to_yaml("The committed alerts on synthetic series.")
        .unwrap()
}

fn key(name: &str, tier: Option<&str>) -> String {
    format!("{name}/{}", tier.unwrap_or("-"))
}

/// The exposition line of a firing synthetic alert. Burn-rate alerts carry
/// the labels of the SLO recording rules they read (their `team` comes from
/// alerts/slo.yaml); `extra` tells instances apart.
fn firing(name: &str, tier: Option<&str>, extra: &str) -> String {
    let slo = match name {
        "ShopAvailabilityBudgetBurn" => "availability",
        "ShopCheckoutBudgetBurn" => "checkout",
        _ => "",
    };
    let mut labels = format!("synthetic=\"{}\"", key(name, tier));
    if !slo.is_empty() {
        labels.push_str(&format!(
            ",sloth_id=\"shop-{slo}\",sloth_service=\"shop\",sloth_slo=\"{slo}\",team=\"shop\""
        ));
    }
    if !extra.is_empty() {
        labels.push(',');
        labels.push_str(extra);
    }
    format!("shop_synthetic_alert{{{labels}}} 1\n")
}

/// A `/metrics` endpoint serving whatever the test sets.
struct Exporter {
    address: String,
    text: Arc<Mutex<String>>,
    server: tokio::task::JoinHandle<()>,
}

impl Exporter {
    async fn start() -> Exporter {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let text = Arc::new(Mutex::new(String::new()));
        let router = Router::new()
            .route(
                "/metrics",
                get(|State(text): State<Arc<Mutex<String>>>| async move {
                    text.lock().unwrap().clone()
                }),
            )
            .with_state(text.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Exporter {
            address,
            text,
            server,
        }
    }

    fn set(&self, lines: &[String]) {
        *self.text.lock().unwrap() =
            format!("# TYPE shop_synthetic_alert gauge\n{}", lines.concat());
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn about(n: &Notification, alertname: &str, status: &str) -> bool {
    n.group_label("alertname") == alertname && n.status == status
}

fn names(notifications: &[Notification]) -> Vec<String> {
    notifications
        .iter()
        .map(|n| format!("{}:{}", n.group_label("alertname"), n.status))
        .collect()
}

async fn wait_until_muted(
    alertmanager: &Alertmanager,
    expected: usize,
) -> Vec<alertmanager::Alert> {
    let started = std::time::Instant::now();
    loop {
        let held = alertmanager.alerts().await.unwrap();
        let muted: Vec<_> = held
            .iter()
            .filter(|a| {
                a.label("alertname") != "ShopDown"
                    && a.label("alertname") != "ShopDatabasePoolSaturated"
            })
            .cloned()
            .collect();
        if muted.len() == expected && muted.iter().all(|a| !a.status.inhibited_by.is_empty()) {
            return muted;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "alerts were not all inhibited: {held:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn pages_reach_the_pager_grouped_by_slo_and_shop_down_mutes_its_consequences() {
    let pager = Webhook::start().await.unwrap();
    let tickets = Webhook::start().await.unwrap();
    let second = Duration::from_secs(1);
    let config = alertmanager::Config::from_file(crate_dir().join("alertmanager.yml"))
        .unwrap()
        .webhook_receivers([("shop-pager", pager.url()), ("shop-tickets", tickets.url())])
        .unwrap()
        .timing(second, second, Duration::from_secs(3600));
    let alertmanager = Alertmanager::start(config).await.unwrap();

    let exporter = Exporter::start().await;
    let everything = |with_shop_down: bool| {
        let mut lines = vec![
            firing("ShopInstanceDown", None, "pod=\"shop-a\""),
            firing("ShopInstanceDown", None, "pod=\"shop-b\""),
            firing("ShopDatabasePoolSaturated", None, ""),
            firing("ShopAvailabilityBudgetBurn", Some("1h_5m"), ""),
            firing("ShopAvailabilityBudgetBurn", Some("6h_30m"), ""),
            firing("ShopAvailabilityBudgetBurn", Some("1d_2h"), ""),
            firing("ShopCheckoutBudgetBurn", Some("1h_5m"), ""),
        ];
        if with_shop_down {
            lines.push(firing("ShopDown", None, ""));
        }
        lines
    };
    exporter.set(&everything(true));
    let rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(rules.path(), synthetic_rules()).unwrap();
    let _prometheus = Prometheus::start(
        prometheus::Config::scraping([exporter.address.as_str()])
            .rule_file(rules.path())
            .alerting_to(alertmanager.url()),
    )
    .await
    .unwrap();

    // While the shop is down: one page, the unrelated ticket, nothing else.
    let down = pager
        .wait_for(
            "the ShopDown page",
            |n| about(n, "ShopDown", "firing"),
            2 * PATIENCE,
        )
        .await
        .unwrap();
    assert_eq!(
        down.common_annotations["runbook_url"].rsplit('/').next(),
        Some("ShopDown.md")
    );
    tickets
        .wait_for(
            "the pool ticket",
            |n| about(n, "ShopDatabasePoolSaturated", "firing"),
            PATIENCE,
        )
        .await
        .unwrap();
    // Two instances, three availability tiers and one checkout tier, all held
    // back by ShopDown (the 1d_2h ticket by the availability page as well).
    let muted = wait_until_muted(&alertmanager, 6).await;
    assert!(
        muted.iter().all(|a| a.status.state == "suppressed"),
        "{muted:#?}"
    );
    // Three group intervals for a muted alert to leak out, if it could.
    tokio::time::sleep(3 * second).await;
    let leaked: Vec<_> = pager
        .notifications()
        .into_iter()
        .chain(tickets.notifications())
        .filter(|n| {
            !["ShopDown", "ShopDatabasePoolSaturated"].contains(&n.group_label("alertname"))
        })
        .collect();
    assert!(
        leaked.is_empty(),
        "delivered while ShopDown fired: {:?}",
        names(&leaked)
    );

    // The shop is back: ShopDown resolves, and what it muted is delivered.
    exporter.set(&everything(false));
    pager
        .wait_for(
            "ShopDown resolved",
            |n| about(n, "ShopDown", "resolved"),
            PATIENCE,
        )
        .await
        .unwrap();
    let availability = pager
        .wait_for(
            "the availability page",
            |n| about(n, "ShopAvailabilityBudgetBurn", "firing"),
            PATIENCE,
        )
        .await
        .unwrap();
    let mut tiers: Vec<_> = availability
        .alerts
        .iter()
        .map(|a| a.label("tier"))
        .collect();
    tiers.sort_unstable();
    assert_eq!(
        tiers,
        ["1h_5m", "6h_30m"],
        "both page tiers in one notification"
    );
    assert_eq!(availability.group_label("sloth_slo"), "availability");
    let checkout = pager
        .wait_for(
            "the checkout page",
            |n| about(n, "ShopCheckoutBudgetBurn", "firing"),
            PATIENCE,
        )
        .await
        .unwrap();
    assert_eq!(checkout.alerts.len(), 1);
    let instances = tickets
        .wait_for(
            "the instance tickets",
            |n| about(n, "ShopInstanceDown", "firing"),
            PATIENCE,
        )
        .await
        .unwrap();
    let mut pods: Vec<_> = instances.alerts.iter().map(|a| a.label("pod")).collect();
    pods.sort_unstable();
    assert_eq!(pods, ["shop-a", "shop-b"], "one ticket for both instances");

    // Everything recovers: each group is told so.
    exporter.set(&[]);
    pager
        .wait_for(
            "the availability page resolved",
            |n| about(n, "ShopAvailabilityBudgetBurn", "resolved"),
            PATIENCE,
        )
        .await
        .unwrap();
    tickets
        .wait_for(
            "the instance tickets resolved",
            |n| about(n, "ShopInstanceDown", "resolved"),
            PATIENCE,
        )
        .await
        .unwrap();

    // Routing: pages only to the pager, tickets only to the queue, and the
    // availability ticket never, as its page covered it.
    for (webhook, severity) in [(&pager, "page"), (&tickets, "ticket")] {
        let received = webhook.notifications();
        for n in &received {
            assert_eq!(
                n.group_label("severity"),
                severity,
                "{:?}",
                names(&received)
            );
        }
    }
    assert!(
        !tickets
            .notifications()
            .iter()
            .any(|n| n.group_label("alertname") == "ShopAvailabilityBudgetBurn"),
        "the availability ticket was delivered beside its page: {:?}",
        names(&tickets.notifications())
    );
}
