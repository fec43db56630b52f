//! promtool on the rules: syntax for every period, unit-test suites per alert.

use alerts::{generate::Options, period::Period};

use crate::helpers::{committed_alert_names, crate_dir, generate_shipped, promtool};

#[test]
fn promtool_accepts_the_rules_of_every_period() {
    let dir = tempfile::tempdir().unwrap();
    for period in Period::ALL {
        let options = Options {
            period,
            ..Options::default()
        };
        let out = dir.path().join(period.to_string());
        let paths = alerts::generate::write(&out, &generate_shipped(&options)).unwrap();
        let mut args = vec!["check", "rules"];
        args.extend(paths.iter().map(|p| p.to_str().unwrap()));
        let report = promtool(&args, dir.path());
        assert!(
            report.contains("SUCCESS: 57 rules found"),
            "{period}: {report}"
        );
        assert!(
            report.contains("SUCCESS: 13 rules found"),
            "{period}: {report}"
        );
    }
}

/// Runs one suite of `tests/promtool/` against the committed rules.
fn suite(alert: &str) {
    let file = format!("tests/promtool/{alert}.yaml");
    let report = promtool(&["test", "rules", &file], &crate_dir());
    assert!(report.contains("SUCCESS"), "{report}");
}

macro_rules! suites {
    ($($test:ident => $alert:literal,)*) => {
        $(
            #[test]
            fn $test() {
                suite($alert);
            }
        )*

        #[test]
        fn every_alert_has_a_promtool_suite_that_exercises_it() {
            let suites = [$($alert),*];
            for alert in committed_alert_names() {
                assert!(suites.contains(&alert.as_str()), "no promtool suite for {alert}");
                let path = crate_dir().join(format!("tests/promtool/{alert}.yaml"));
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(
                    text.contains(&format!("alertname: {alert}"))
                        || text.contains(&format!("alertname=\"{alert}\"")),
                    "{} never evaluates {alert}",
                    path.display()
                );
            }
        }
    };
}

suites! {
    availability_burn_rate_pages_and_tickets_when_it_should => "ShopAvailabilityBudgetBurn",
    page_latency_burn_rate_pages_and_tickets_when_it_should => "ShopPageLatencyBudgetBurn",
    checkout_burn_rate_pages_and_tickets_when_it_should => "ShopCheckoutBudgetBurn",
    shop_down_pages_when_no_instance_answers => "ShopDown",
    shop_instance_down_tickets_one_lost_instance => "ShopInstanceDown",
    shop_target_missing_pages_when_nothing_is_scraped => "ShopTargetMissing",
    shop_not_ready_tickets_a_pod_failing_readiness => "ShopNotReady",
    pool_saturation_tickets_a_full_pool => "ShopDatabasePoolSaturated",
    slo_metric_absent_tickets_a_missing_metric => "ShopSLOMetricAbsent",
    memory_near_limit_tickets_a_pod_near_oom => "ShopMemoryNearLimit",
    fault_left_active_tickets_a_forgotten_fault => "ShopFaultInjectionLeftActive",
    orders_stopped_pages_when_shoppers_check_out_and_nobody_buys => "ShopOrdersStopped",
    orders_below_last_week_tickets_a_drop_but_not_a_quiet_night => "ShopOrdersBelowLastWeek",
    revenue_below_last_week_tickets_a_drop_but_not_a_quiet_night => "ShopRevenueBelowLastWeek",
}
