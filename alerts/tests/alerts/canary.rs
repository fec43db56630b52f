//! The canary's AnalysisTemplate: generated from the SLOs, committed, and its
//! queries judged in a real Prometheus scraping a real shop.

use std::time::{Duration, Instant};

use alerts::{
    analysis::{
        self, AnalysisMetric, Verdict, ANALYSIS_TEMPLATE_PATH, CANARY_HASH_ARG, CANARY_LABEL,
        DEFAULT_PROMETHEUS_ADDRESS,
    },
    generate::{Options, SLO_RULES_FILE},
    period::Period,
    promql,
    spec::SloSpec,
};
use fleet::prometheus::{Config, Prometheus};
use shop::{configuration::Settings, startup::Application};
use shop_contract::faults::{FaultKind, FaultSpec, ANY_ROUTE};

use crate::helpers::{assert_golden, crate_dir, shipped_spec, workspace_root};

const PATIENCE: Duration = Duration::from_secs(60);

fn shipped_template() -> String {
    analysis::analysis_template(
        &shipped_spec(),
        "alerts/slo.yaml",
        &Options::default(),
        DEFAULT_PROMETHEUS_ADDRESS,
    )
    .expect("the template generates")
}

#[test]
fn the_committed_analysis_template_matches_a_fresh_generation() {
    assert_golden(
        &workspace_root().join(ANALYSIS_TEMPLATE_PATH),
        &shipped_template(),
        "run `cargo run -p alerts -- analysis-template` and commit it",
    );
}

#[test]
fn the_canary_is_judged_by_availability_and_latency_at_the_fast_page_thresholds() {
    let metrics = analysis::metrics(&shipped_spec(), &Options::default()).unwrap();
    let judged: Vec<_> = metrics
        .iter()
        .map(|m| (m.name.as_str(), m.threshold, m.window.as_str()))
        .collect();
    // 14.4 x (1 - 99.9 %) and 14.4 x (1 - 99 %) over the page pair's 5m window,
    // for the whole service and for the canary's pods alone.
    assert_eq!(
        judged,
        [
            ("availability", 0.0144, "5m"),
            ("availability-canary", 0.0144, "5m"),
            ("page-latency", 0.144, "5m"),
            ("page-latency-canary", 0.144, "5m"),
        ]
    );
    assert_eq!(
        metrics[0].query,
        r#"slo:sli_error:ratio_rate5m{sloth_service="shop", sloth_slo="availability"}"#
    );
}

#[test]
fn the_canary_queries_are_the_slis_with_every_selector_narrowed_to_the_canarys_pods() {
    let spec = shipped_spec();
    let metrics = analysis::metrics(&spec, &Options::default()).unwrap();
    for metric in metrics.iter().filter(|m| m.name.ends_with("-canary")) {
        let hash = format!(r#", {CANARY_LABEL}="{{{{args.{CANARY_HASH_ARG}}}}}""#);
        let sli = spec.slo(&metric.slo).unwrap().error_ratio_query("5m");
        assert_eq!(metric.query.replace(&hash, ""), sli.trim_end());
        let selectors = promql::selectors(&metric.query).unwrap();
        assert!(selectors.len() >= 2, "{}", metric.query);
        for selector in selectors {
            assert_eq!(
                selector.matchers_on(CANARY_LABEL).count(),
                1,
                "{}",
                metric.query
            );
        }
    }
}

#[test]
fn an_sli_that_does_not_select_the_shop_job_cannot_be_narrowed_to_a_canary() {
    let yaml = std::fs::read_to_string(crate_dir().join("slo.yaml"))
        .unwrap()
        .replacen(
            r#"{job="shop",http_response_status_code=~"5.."}"#,
            r#"{http_response_status_code=~"5.."}"#,
            1,
        );
    let spec = SloSpec::parse(&yaml, "edited").unwrap();
    let error = analysis::metrics(&spec, &Options::default()).unwrap_err();
    assert!(
        error.to_string().contains(r#"must match job="shop""#),
        "{error}"
    );
}

#[test]
fn the_thresholds_follow_the_objective_and_the_period_of_the_spec() {
    let yaml = std::fs::read_to_string(crate_dir().join("slo.yaml"))
        .unwrap()
        .replace("objective: 99.9\n", "objective: 99.5\n");
    let spec = SloSpec::parse(&yaml, "edited").unwrap();
    let metrics = analysis::metrics(&spec, &Options::default()).unwrap();
    assert_eq!(metrics[0].threshold, 0.072, "14.4 x 0.5 %");
    let weekly = Options {
        period: Period::DAYS_7,
        ..Options::default()
    };
    let metrics = analysis::metrics(&shipped_spec(), &weekly).unwrap();
    // The 7-day page pair spends 8 % of the budget in 1h: burn rate 13.44.
    assert_eq!(metrics[0].threshold, 0.01344);
}

#[test]
fn a_spec_without_request_slos_has_no_canary_judge_and_says_so() {
    let yaml = std::fs::read_to_string(crate_dir().join("tests/fixtures/raw-sli.yaml")).unwrap();
    let spec = SloSpec::parse(&yaml, "raw-sli.yaml").unwrap();
    let error = analysis::metrics(&spec, &Options::default()).unwrap_err();
    assert!(
        error.to_string().contains("nothing to judge a canary by"),
        "{error}"
    );
}

#[test]
fn no_traffic_or_an_unexpected_result_is_inconclusive_not_a_pass() {
    let metric = &analysis::metrics(&shipped_spec(), &Options::default()).unwrap()[0];
    assert_eq!(metric.verdict(&[0.0]), Verdict::Successful);
    assert_eq!(metric.verdict(&[0.0144]), Verdict::Successful);
    assert_eq!(metric.verdict(&[0.0145]), Verdict::Failed);
    assert_eq!(metric.verdict(&[f64::NAN]), Verdict::Inconclusive);
    assert_eq!(metric.verdict(&[]), Verdict::Inconclusive);
    assert_eq!(metric.verdict(&[0.0, 0.0]), Verdict::Inconclusive);
    assert_eq!(
        metric.success_condition(),
        "len(result) == 1 && result[0] <= 0.0144"
    );
    assert_eq!(
        metric.failure_condition(),
        "len(result) == 1 && result[0] > 0.0144"
    );
}

/// Each metric of the committed template: its query, and the metric it was
/// generated from (the golden test above keeps the two the same).
fn committed_metrics() -> Vec<(String, AnalysisMetric)> {
    let text = std::fs::read_to_string(workspace_root().join(ANALYSIS_TEMPLATE_PATH)).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let generated = analysis::metrics(&shipped_spec(), &Options::default()).unwrap();
    let committed = template["spec"]["metrics"].as_sequence().unwrap();
    assert_eq!(committed.len(), generated.len());
    committed
        .iter()
        .zip(generated)
        .map(|(metric, generated)| {
            assert_eq!(metric["name"].as_str(), Some(generated.name.as_str()));
            assert_eq!(
                metric["successCondition"].as_str(),
                Some(generated.success_condition().as_str())
            );
            let query = metric["provider"]["prometheus"]["query"]
                .as_str()
                .unwrap()
                .to_owned();
            (query, generated)
        })
        .collect()
}

/// Shoppers browsing pages and the API: a request every 50 ms, at most 3000.
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

/// Evaluates every committed query, the canary's hash set to `hash`, until
/// `wanted` holds for the verdicts (in template order); the last verdicts
/// and values otherwise.
async fn wait_for_verdicts(
    prometheus: &Prometheus,
    metrics: &[(String, AnalysisMetric)],
    hash: &str,
    wanted: impl Fn(&[Verdict]) -> bool,
) -> Result<Vec<Verdict>, String> {
    let started = Instant::now();
    loop {
        let mut verdicts = Vec::new();
        let mut seen = Vec::new();
        for (query, metric) in metrics {
            let query = query.replace(&format!("{{{{args.{CANARY_HASH_ARG}}}}}"), hash);
            let values: Vec<f64> = prometheus
                .query(&query)
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .map(|s| s.value)
                .collect();
            verdicts.push(metric.verdict(&values));
            seen.push(format!("{}: {values:?}", metric.name));
        }
        if wanted(&verdicts) {
            return Ok(verdicts);
        }
        if started.elapsed() > PATIENCE {
            return Err(format!(
                "verdicts {verdicts:?} ({}) after {PATIENCE:?}\nPrometheus log:\n{}",
                seen.join(", "),
                prometheus.log()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Rules giving a copy of every series the canary queries read the label a
/// canary pod's series carry in the cluster (the ServiceMonitor copies it
/// from the pod), with `hash` as its value: here one shop plays the canary.
fn canary_pod_rules(metrics: &[(String, AnalysisMetric)], hash: &str) -> String {
    let mut names: Vec<String> = metrics
        .iter()
        .filter(|(_, m)| m.name.ends_with("-canary"))
        .flat_map(|(query, _)| promql::selectors(query).unwrap())
        .map(|s| s.metric)
        .collect();
    names.sort();
    names.dedup();
    let rules: Vec<String> = names
        .iter()
        .map(|name| {
            format!(
                "  - record: {name}\n    expr: '{name}{{job=\"shop\", {CANARY_LABEL}=\"\"}}'\n    labels:\n      {CANARY_LABEL}: {hash}\n"
            )
        })
        .collect();
    format!("groups:\n- name: canary-pods\n  rules:\n{}", rules.concat())
}

async fn inject(admin: &str, token: &str, kind: FaultKind) {
    let (latency_ms, status) = match kind {
        FaultKind::Latency => (Some(300), None),
        _ => (None, Some(500)),
    };
    reqwest::Client::new()
        .post(format!("http://{admin}/admin/faults"))
        .bearer_auth(token)
        .json(&FaultSpec {
            kind,
            target: Default::default(),
            route: ANY_ROUTE.into(),
            probability: 1.0,
            latency_ms,
            status,
            duration_seconds: 300,
        })
        .send()
        .await
        .unwrap()
        .error_for_status()
        .expect("the fault API accepts the fault");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analysis_passes_a_healthy_shop_and_fails_it_under_an_error_or_a_latency_fault() {
    use Verdict::{Failed, Inconclusive, Successful};
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::ephemeral(&format!("sqlite://{}/shop.db", dir.path().display()));
    let token = settings.admin_token.clone().expect("an admin token");
    let app = Application::build(settings).await.expect("the shop builds");
    let public = format!("http://127.0.0.1:{}", app.port());
    let admin = format!("127.0.0.1:{}", app.admin_port());
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());

    let metrics = committed_metrics();
    let names: Vec<_> = metrics.iter().map(|(_, m)| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "availability",
            "availability-canary",
            "page-latency",
            "page-latency-canary"
        ]
    );
    let canary_rules = dir.path().join("canary-pods.yaml");
    std::fs::write(&canary_rules, canary_pod_rules(&metrics, "c4n4ry")).unwrap();
    let config = Config::scraping([admin.clone()])
        .rule_file(crate_dir().join("generated").join(SLO_RULES_FILE))
        .rule_file(&canary_rules);
    let prometheus = Prometheus::start(config).await.unwrap();
    let traffic = tokio::spawn(shoppers(public));

    // Healthy: every SLI, the service's and the canary pods', is a number
    // under its threshold.
    wait_for_verdicts(&prometheus, &metrics, "c4n4ry", |v| {
        v.iter().all(|v| *v == Successful)
    })
    .await
    .expect("a healthy shop passes the analysis");
    // Another revision's hash selects no pod: no verdict either way.
    let other = wait_for_verdicts(&prometheus, &metrics, "0ther", |_| true)
        .await
        .unwrap();
    assert_eq!(
        other,
        [Successful, Inconclusive, Successful, Inconclusive],
        "the canary queries judge only the pods with the canary's hash"
    );

    // Every request answered 500: both availability analyses fail (and the
    // fast 500s leave the latency SLIs alone).
    inject(&admin, &token, FaultKind::Error).await;
    let verdicts = wait_for_verdicts(&prometheus, &metrics, "c4n4ry", |v| {
        v[0] == Failed && v[1] == Failed
    })
    .await
    .expect("an error storm fails the availability analyses");
    assert_eq!(
        (verdicts[2], verdicts[3]),
        (Successful, Successful),
        "errors are not slow"
    );

    // Errors cleared, every request 300 ms late: both latency analyses fail.
    reqwest::Client::new()
        .delete(format!("http://{admin}/admin/faults"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .expect("the faults are cleared");
    inject(&admin, &token, FaultKind::Latency).await;
    wait_for_verdicts(&prometheus, &metrics, "c4n4ry", |v| {
        v[2] == Failed && v[3] == Failed
    })
    .await
    .expect("slow pages fail the latency analyses");

    traffic.abort();
    stopper.stop();
}
