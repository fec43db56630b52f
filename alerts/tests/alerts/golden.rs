//! Generated rules against committed files.

use alerts::{
    generate::{self, Options, SLO_RULES_FILE, SYMPTOM_RULES_FILE},
    period::Period,
    spec::SloSpec,
};

use crate::helpers::{assert_golden, crate_dir, generate_shipped, parse};

#[test]
fn the_committed_rules_match_a_fresh_generation() {
    let dir = crate_dir().join("generated");
    let files = generate_shipped(&Options::default());
    for file in &files {
        assert_golden(
            &dir.join(file.name),
            &file.contents,
            "run `cargo run -p alerts -- generate` and commit alerts/generated/",
        );
    }
    let mut on_disk: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(
        on_disk,
        [SLO_RULES_FILE, SYMPTOM_RULES_FILE],
        "alerts/generated/ holds exactly the generated files"
    );
}

fn golden_period(period: Period) {
    let dir = crate_dir().join("tests/golden").join(period.to_string());
    let options = Options {
        period,
        ..Options::default()
    };
    for file in generate_shipped(&options) {
        assert_golden(
            &dir.join(file.name),
            &file.contents,
            "check the change, then UPDATE_GOLDEN=1 cargo test -p alerts",
        );
    }
}

#[test]
fn the_28_day_rules_match_their_golden_files() {
    golden_period(Period::DAYS_28);
}

#[test]
fn the_7_day_rules_match_their_golden_files() {
    golden_period(Period::DAYS_7);
}

#[test]
fn a_raw_sli_spec_with_a_disabled_ticket_and_for_durations_matches_its_golden_file() {
    let spec = SloSpec::load(crate_dir().join("tests/fixtures/raw-sli.yaml")).unwrap();
    let options = Options {
        page_for: Some(std::time::Duration::from_secs(120)),
        runbook_base_url: "https://runbooks.example.com/".into(),
        ..Options::default()
    };
    let files = generate::generate(&spec, "raw-sli.yaml", &options).unwrap();
    let dir = crate_dir().join("tests/golden/raw-sli");
    for file in &files {
        assert_golden(
            &dir.join(file.name),
            &file.contents,
            "check the change, then UPDATE_GOLDEN=1 cargo test -p alerts",
        );
    }
    let slo_rules = &parse(&files)[0];
    let alerts: Vec<_> = slo_rules.alerts().collect();
    assert_eq!(
        alerts.len(),
        2,
        "the disabled ticket alert is not generated"
    );
    assert!(alerts.iter().all(|a| a.for_.as_deref() == Some("2m")));
    assert!(alerts
        .iter()
        .all(|a| a.annotations["runbook_url"]
            == "https://runbooks.example.com/QueueConsumerErrors.md"));
    let five_minutes = slo_rules
        .recordings()
        .find(|r| r.record.as_deref() == Some("slo:sli_error:ratio_rate5m"))
        .unwrap();
    assert!(
        five_minutes.expr.starts_with("(sum(rate("),
        "{}",
        five_minutes.expr
    );
    assert!(five_minutes.expr.contains("[5m]") && !five_minutes.expr.contains("{{"));
    assert_eq!(five_minutes.labels["component"], "consumer");
    assert_eq!(five_minutes.labels["owner"], "platform");
}

#[test]
fn the_28_day_period_scales_the_factors_and_names_the_period_window_4w() {
    let options = Options {
        period: Period::DAYS_28,
        ..Options::default()
    };
    let files = parse(&generate_shipped(&options));
    let slo_rules = &files[0];
    let records: Vec<_> = slo_rules
        .recordings()
        .filter_map(|r| r.record.as_deref())
        .collect();
    assert!(
        records.contains(&"slo:sli_error:ratio_rate4w"),
        "{records:?}"
    );
    assert!(!records.contains(&"slo:sli_error:ratio_rate30d"));
    let days = slo_rules
        .recordings()
        .find(|r| r.record.as_deref() == Some("slo:time_period:days"))
        .unwrap();
    assert_eq!(days.expr, "vector(28)");
    let fast_page = slo_rules
        .alerts()
        .find(|a| a.labels["tier"] == "1h_5m")
        .unwrap();
    assert!(
        fast_page.expr.contains("(13.44 * 0.0009999999999999432)"),
        "{}",
        fast_page.expr
    );
}

#[test]
fn the_30_day_rules_have_every_sloth_recording_and_the_workbook_alert_pairs() {
    let files = parse(&generate_shipped(&Options::default()));
    let slo_rules = &files[0];
    for slo in ["availability", "page-latency", "checkout"] {
        let group = |kind: &str| {
            slo_rules
                .groups
                .iter()
                .find(|g| g.name == format!("sloth-slo-{kind}-shop-{slo}"))
                .unwrap_or_else(|| panic!("no {kind} group for {slo}"))
        };
        let sli: Vec<_> = group("sli-recordings")
            .rules
            .iter()
            .map(|r| r.record.clone().unwrap())
            .collect();
        let windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"];
        assert_eq!(sli, windows.map(|w| format!("slo:sli_error:ratio_rate{w}")));
        let meta: Vec<_> = group("meta-recordings")
            .rules
            .iter()
            .map(|r| r.record.clone().unwrap())
            .collect();
        assert_eq!(
            meta,
            [
                "slo:objective:ratio",
                "slo:error_budget:ratio",
                "slo:time_period:days",
                "slo:current_burn_rate:ratio",
                "slo:period_burn_rate:ratio",
                "slo:period_error_budget_remaining:ratio",
                "sloth_slo_info",
            ]
        );
        let pairs: Vec<_> = group("alerts")
            .rules
            .iter()
            .map(|a| {
                (
                    a.labels["severity"].as_str(),
                    a.labels["tier"].as_str(),
                    a.expr.as_str(),
                )
            })
            .collect();
        let expected = [
            ("page", "1h_5m", "14.4", "5m", "1h"),
            ("page", "6h_30m", "6", "30m", "6h"),
            ("ticket", "1d_2h", "3", "2h", "1d"),
            ("ticket", "3d_6h", "1", "6h", "3d"),
        ];
        assert_eq!(pairs.len(), expected.len());
        for ((severity, tier, expr), (want_severity, want_tier, factor, short, long)) in
            pairs.into_iter().zip(expected)
        {
            assert_eq!((severity, tier), (want_severity, want_tier));
            assert!(
                expr.contains(&format!("slo:sli_error:ratio_rate{short}{{")),
                "{expr}"
            );
            assert!(
                expr.contains(&format!("slo:sli_error:ratio_rate{long}{{")),
                "{expr}"
            );
            assert!(expr.contains(&format!("({factor} * ")), "{expr}");
        }
    }
}
