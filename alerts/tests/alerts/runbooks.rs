//! Every alert has a runbook, and every runbook says the same five things.

use std::collections::BTreeSet;

use alerts::generate::{Options, RUNBOOKS_DIR};

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
            assert_eq!(url, &format!("{RUNBOOKS_DIR}/{name}.md"));
            assert!(
                workspace_root().join(url).is_file(),
                "{name}: {url} is missing"
            );
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
