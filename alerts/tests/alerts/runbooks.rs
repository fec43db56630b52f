//! Every alert has a runbook, and every runbook says the same five things.

use std::{collections::BTreeSet, path::PathBuf};

use alerts::generate::{Options, DEFAULT_RUNBOOK_BASE_URL, RUNBOOKS_DIR};

use crate::helpers::{committed_alert_names, generate_shipped, parse, workspace_root};

const SECTIONS: [&str; 5] = [
    "## Meaning",
    "## Confirm",
    "## Likely causes",
    "## Mitigation",
    "## Reproduce",
];

#[test]
fn every_alert_links_a_runbook_that_exists() {
    for file in parse(&generate_shipped(&Options::default())) {
        for rule in file.alerts() {
            let name = rule.alert.as_deref().unwrap();
            let url = &rule.annotations["runbook_url"];
            assert_eq!(url, &format!("{DEFAULT_RUNBOOK_BASE_URL}{name}.md"));
            assert!(runbook_of(url).is_file(), "{name}: {url} names no runbook");
        }
    }
}

/// The file in alerts/runbooks/ that a runbook URL shows, for a URL under the
/// default base; a test failure for any other URL.
fn runbook_of(url: &str) -> PathBuf {
    assert!(
        url.starts_with("https://"),
        "{url} is not an absolute https URL"
    );
    let file = url
        .strip_prefix(DEFAULT_RUNBOOK_BASE_URL)
        .unwrap_or_else(|| panic!("{url} is not under {DEFAULT_RUNBOOK_BASE_URL}"));
    assert!(
        !file.contains('/') && file.ends_with(".md"),
        "{url} is not a runbook page"
    );
    workspace_root().join(RUNBOOKS_DIR).join(file)
}

/// Every `runbook_url: ...` in a committed file.
fn runbook_urls_in(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace_root().join(path)).unwrap();
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("runbook_url: "))
        .map(|url| url.trim_matches(['"', '\'']).to_owned())
        .collect()
}

#[test]
fn every_committed_runbook_url_opens_a_runbook_of_the_repository() {
    for path in [
        "alerts/generated/slo-rules.yaml",
        "alerts/generated/symptom-rules.yaml",
        "k8s/components/slo-rules/prometheusrules.yaml",
    ] {
        let urls = runbook_urls_in(path);
        assert!(!urls.is_empty(), "{path} has no runbook_url");
        for url in urls {
            assert!(runbook_of(&url).is_file(), "{path}: {url} names no runbook");
        }
    }
}

#[test]
fn every_runbook_says_what_to_do_and_how_to_reproduce_it() {
    for alert in committed_alert_names() {
        let path = workspace_root().join(format!("{RUNBOOKS_DIR}/{alert}.md"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("# {alert}\n")),
            "{}",
            path.display()
        );
        let mut last = 0;
        for section in SECTIONS {
            let at = text
                .find(section)
                .unwrap_or_else(|| panic!("{alert}: no {section}"));
            assert!(at > last, "{alert}: {section} out of order");
            last = at;
        }
        assert!(
            text.contains("```promql"),
            "{alert}: no PromQL to confirm with"
        );
        let reproduce = &text[last..];
        // A chaos experiment that triggers the alert, or a plain statement that none does.
        assert!(
            reproduce.contains("chaos/experiments/") || reproduce.contains("No chaos experiment"),
            "{alert}: names no chaos experiment"
        );
        let suite = format!("alerts/tests/promtool/{alert}.yaml");
        assert!(reproduce.contains(&suite), "{alert}: does not name {suite}");
        assert!(
            workspace_root().join(&suite).is_file(),
            "{suite} is missing"
        );
    }
}

#[test]
fn there_is_no_runbook_without_an_alert_and_the_index_lists_them_all() {
    let alerts = committed_alert_names();
    let runbooks: BTreeSet<String> = std::fs::read_dir(workspace_root().join(RUNBOOKS_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "README.md")
        .map(|name| name.trim_end_matches(".md").to_owned())
        .collect();
    assert_eq!(runbooks, alerts);
    let index =
        std::fs::read_to_string(workspace_root().join(RUNBOOKS_DIR).join("README.md")).unwrap();
    for alert in &alerts {
        assert!(
            index.contains(&format!("[{alert}.md]({alert}.md)")),
            "index misses {alert}"
        );
    }
}
