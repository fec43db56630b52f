//! The committed JSON and provisioning files: fresh, and shaped the way
//! Grafana needs them.

use std::collections::{BTreeMap, BTreeSet};

use alerts::{
    generate::{DEFAULT_RUNBOOK_BASE_URL, RUNBOOKS_DIR},
    spec::SloSpec,
};
use dashboards::{
    boards,
    generate::{self, GENERATED_DIR, PROVISIONING_DIR},
    model::GRID_WIDTH,
    queries,
};
use regex::Regex;
use serde_json::Value;

use crate::helpers::{committed_dashboards, root};

#[test]
fn the_committed_dashboards_and_provisioning_files_equal_a_fresh_generation() {
    let dashboards = generate::dashboard_files(&boards::all()).unwrap();
    let provisioning = generate::provisioning_files().unwrap();
    let mut stale = generate::stale(&root().join(GENERATED_DIR), &dashboards);
    stale.extend(generate::stale(
        &root().join(PROVISIONING_DIR),
        &provisioning,
    ));
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run `cargo run -p dashboards -- generate` and commit the result"
    );
}

#[test]
fn every_dashboard_is_committed_under_its_stable_uid() {
    let committed = committed_dashboards();
    let files: Vec<String> = committed.iter().map(|(file, _)| file.clone()).collect();
    let mut expected: Vec<String> = boards::uid::ALL
        .iter()
        .map(|uid| format!("{uid}.json"))
        .collect();
    expected.sort();
    assert_eq!(files, expected);
    for (file, dashboard) in &committed {
        let uid = dashboard["uid"].as_str().unwrap();
        assert_eq!(format!("{uid}.json"), *file);
        assert!(
            uid.len() <= 40 && uid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{uid} is not a valid Grafana uid"
        );
        assert!(
            dashboard.get("id").is_none(),
            "{file}: a provisioned dashboard has no id"
        );
        assert_eq!(
            dashboard["schemaVersion"],
            dashboards::model::SCHEMA_VERSION
        );
        assert!(
            dashboard["tags"]
                .as_array()
                .unwrap()
                .contains(&boards::TAG.into()),
            "{file} lacks the {} tag the header links use",
            boards::TAG
        );
    }
}

#[test]
fn panel_ids_are_unique_within_each_dashboard() {
    for (file, dashboard) in committed_dashboards() {
        let mut seen = BTreeSet::new();
        for panel in queries::panels(&dashboard) {
            let id = panel["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{file}: a panel without an id"));
            assert!(id > 0, "{file}: panel id 0");
            assert!(seen.insert(id), "{file}: panel id {id} is used twice");
        }
        assert!(seen.len() > 3, "{file} has almost no panels");
    }
}

#[test]
fn panels_fit_the_grid_and_never_overlap() {
    for (file, dashboard) in committed_dashboards() {
        let boxes: Vec<(String, u64, u64, u64, u64)> = queries::panels(&dashboard)
            .into_iter()
            .map(|panel| {
                let pos = &panel["gridPos"];
                let get = |k: &str| {
                    pos[k]
                        .as_u64()
                        .unwrap_or_else(|| panic!("{file}: gridPos.{k}"))
                };
                (
                    panel["title"].as_str().unwrap().to_owned(),
                    get("x"),
                    get("y"),
                    get("w"),
                    get("h"),
                )
            })
            .collect();
        for (title, x, _, w, h) in &boxes {
            assert!(*w > 0 && *h > 0, "{file}: `{title}` has no area");
            assert!(
                x + w <= u64::from(GRID_WIDTH),
                "{file}: `{title}` runs past column 24"
            );
        }
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let apart =
                    a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1 || a.2 + a.4 <= b.2 || b.2 + b.4 <= a.2;
                assert!(apart, "{file}: `{}` and `{}` overlap", a.0, b.0);
            }
        }
    }
}

/// Every `"datasource"` object anywhere in a dashboard.
fn datasources(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "datasource" {
                    out.push(inner.clone());
                }
                datasources(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| datasources(item, out)),
        _ => {}
    }
}

#[test]
fn every_datasource_reference_names_the_provisioned_prometheus() {
    let text = std::fs::read_to_string(
        root()
            .join(PROVISIONING_DIR)
            .join("datasources/prometheus.yaml"),
    )
    .unwrap();
    let provisioning: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let sources = provisioning["datasources"].as_sequence().unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["type"].as_str(), Some("prometheus"));
    let uid = sources[0]["uid"]
        .as_str()
        .expect("the datasource has a fixed uid");

    for (file, dashboard) in committed_dashboards() {
        let mut found = Vec::new();
        datasources(&dashboard, &mut found);
        assert!(!found.is_empty(), "{file} names no datasource");
        for reference in &found {
            assert_eq!(
                reference,
                &serde_json::json!({"type": "prometheus", "uid": uid}),
                "{file}: a datasource reference other than the provisioned one"
            );
        }
        // A panel or query without a reference would use whatever the
        // default datasource is: every one names it.
        for panel in queries::panels(&dashboard)
            .into_iter()
            .filter(|p| p["type"] != "row")
        {
            assert!(
                panel["datasource"].is_object(),
                "{file}: `{}` has no datasource",
                panel["title"]
            );
            for target in panel["targets"].as_array().unwrap() {
                assert!(
                    target["datasource"].is_object(),
                    "{file}: `{}` has a target without a datasource",
                    panel["title"]
                );
            }
        }
    }
}

#[test]
fn the_provider_loads_the_generated_directory_into_one_folder() {
    let text = std::fs::read_to_string(root().join(PROVISIONING_DIR).join("dashboards/shop.yaml"))
        .unwrap();
    let provider: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let provider = &provider["providers"][0];
    assert_eq!(provider["type"].as_str(), Some("file"));
    assert_eq!(
        provider["folder"].as_str(),
        Some(dashboards::datasource::FOLDER)
    );
    assert_eq!(
        provider["options"]["path"].as_str(),
        Some(format!("${{{}}}", dashboards::datasource::DASHBOARDS_DIR_ENV).as_str())
    );
}

#[test]
fn every_link_leads_to_a_dashboard_that_exists() {
    let committed = committed_dashboards();
    let uids: BTreeSet<String> = committed
        .iter()
        .map(|(_, d)| d["uid"].as_str().unwrap().to_owned())
        .collect();
    let target = Regex::new(r"^/d/([A-Za-z0-9_-]+)").unwrap();
    let mut links = 0;
    for (file, dashboard) in &committed {
        let header = dashboard["links"].as_array().unwrap();
        assert!(
            header
                .iter()
                .any(|l| l["type"] == "dashboards" && l["tags"][0] == boards::TAG),
            "{file} has no drop-down of the other dashboards"
        );
        let panel_links = queries::panels(dashboard)
            .into_iter()
            .flat_map(|p| p["links"].as_array().cloned().unwrap_or_default());
        for link in header.iter().cloned().chain(panel_links) {
            let Some(url) = link["url"].as_str().filter(|u| !u.is_empty()) else {
                continue;
            };
            if url.starts_with(DEFAULT_RUNBOOK_BASE_URL) {
                continue; // every_runbook_link_opens_a_runbook_of_the_repository
            }
            let uid = &target
                .captures(url)
                .unwrap_or_else(|| panic!("{file}: link {url} is not /d/<uid>"))[1];
            assert!(
                uids.contains(uid),
                "{file}: link to unknown dashboard {uid}"
            );
            links += 1;
        }
    }
    assert!(links >= 5, "only {links} links between dashboards");
}

#[test]
fn every_runbook_link_opens_a_runbook_of_the_repository() {
    let mut linked = BTreeSet::new();
    for (file, dashboard) in &committed_dashboards() {
        for link in queries::panels(dashboard)
            .into_iter()
            .flat_map(|p| p["links"].as_array().cloned().unwrap_or_default())
        {
            let url = link["url"].as_str().unwrap_or_default();
            if !link["title"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Runbook")
            {
                continue;
            }
            assert!(
                url.starts_with("https://"),
                "{file}: runbook link {url} is not absolute https"
            );
            let page = url
                .strip_prefix(DEFAULT_RUNBOOK_BASE_URL)
                .unwrap_or_else(|| panic!("{file}: {url} is not under {DEFAULT_RUNBOOK_BASE_URL}"));
            let path = root().join(RUNBOOKS_DIR).join(page);
            assert!(
                path.is_file(),
                "{file}: {url} names no runbook ({})",
                path.display()
            );
            linked.insert(page.to_owned());
        }
    }
    // One per SLO of the shipped spec, at least.
    let spec = SloSpec::shipped();
    for slo in &spec.slos {
        let page = format!("{}.md", slo.alerting.name);
        assert!(linked.contains(&page), "no dashboard links {page}");
    }
}

#[test]
fn the_slo_burn_rate_panels_draw_each_alert_factor_of_the_generated_rules() {
    // The factor of every burn-rate alert, read from the committed rules:
    // `(14.4 * 0.000999...)` in the expression, by SLO and tier.
    let rules_text = std::fs::read_to_string(
        root()
            .join(alerts::generate::GENERATED_DIR)
            .join(alerts::generate::SLO_RULES_FILE),
    )
    .unwrap();
    let rules = alerts::rules::RuleFile::from_yaml(&rules_text).unwrap();
    let factor = Regex::new(r"> \(([0-9.e+-]+) \* ").unwrap();
    let mut expected: BTreeMap<(String, String), f64> = BTreeMap::new();
    for alert in rules.alerts() {
        let slo = alert
            .expr
            .split("sloth_slo=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        let tier = alert.labels[alerts::sloth::labels::TIER].clone();
        let value: f64 = factor.captures(&alert.expr).unwrap()[1].parse().unwrap();
        expected.insert((slo, tier), value);
    }
    assert_eq!(expected.len(), 12, "3 SLOs x 4 window pairs: {expected:?}");

    let slo_board = committed_dashboards()
        .into_iter()
        .find(|(_, d)| d["uid"] == boards::uid::SLO)
        .unwrap()
        .1;
    for ((slo, tier), factor) in &expected {
        let id = format!("sloth_id=\"{}-{slo}\"", SloSpec::shipped().service);
        let panel = queries::panels(&slo_board)
            .into_iter()
            .find(|p| {
                p["description"]
                    .as_str()
                    .is_some_and(|d| d.contains(&format!("(tier {tier})")))
                    && p["targets"][0]["expr"]
                        .as_str()
                        .is_some_and(|e| e.contains(&id))
            })
            .unwrap_or_else(|| panic!("no burn-rate panel for {slo} {tier}"));
        let steps: Vec<f64> = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["value"].as_f64())
            .collect();
        assert_eq!(steps, [*factor], "{slo} {tier}: thresholds {steps:?}");
        assert_ne!(
            panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"],
            "off"
        );
        // Both windows of the pair are drawn.
        let (long, short) = tier.split_once('_').unwrap();
        let exprs: Vec<&str> = panel["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["expr"].as_str().unwrap())
            .collect();
        for window in [long, short] {
            let record = alerts::sloth::sli_error_record(window);
            assert!(
                exprs.iter().any(|e| e.contains(&format!("{record}{{"))),
                "{slo} {tier}: no {record}"
            );
        }
    }
}
