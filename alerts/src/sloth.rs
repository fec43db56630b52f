//! Sloth-compatible rules for each SLO: SLI recording rules for every window,
//! metadata recording rules, and multi-window multi-burn-rate alerts.
//!
//! Names, labels and expressions follow what `sloth generate` writes for the
//! same spec, so Sloth's Grafana dashboards work on them. One difference: each
//! window pair is its own alerting rule with a `tier` label naming the pair
//! (`1h_5m`, ...), where Sloth joins the two pairs of a severity with `or`.

use std::collections::BTreeMap;

use crate::{
    options::Options,
    period::{AlertWindow, Severity},
    promql::{format_duration, go_float},
    rules::{Rule, RuleGroup},
    spec::{Slo, SloSpec, VERSION},
};

/// Label names the rules carry.
pub mod labels {
    pub const SLOTH_ID: &str = "sloth_id";
    pub const SLOTH_SERVICE: &str = "sloth_service";
    pub const SLOTH_SLO: &str = "sloth_slo";
    pub const SLOTH_WINDOW: &str = "sloth_window";
    pub const SLOTH_SEVERITY: &str = "sloth_severity";
    /// `page` or `ticket` unless the spec's alert labels say otherwise.
    pub const SEVERITY: &str = "severity";
    /// Which window pair fired: `1h_5m`, `6h_30m`, `1d_2h` or `3d_6h`.
    pub const TIER: &str = "tier";
}

/// Recording rule names besides the SLI ones.
pub mod records {
    pub const OBJECTIVE: &str = "slo:objective:ratio";
    pub const ERROR_BUDGET: &str = "slo:error_budget:ratio";
    pub const TIME_PERIOD_DAYS: &str = "slo:time_period:days";
    pub const CURRENT_BURN_RATE: &str = "slo:current_burn_rate:ratio";
    pub const PERIOD_BURN_RATE: &str = "slo:period_burn_rate:ratio";
    pub const PERIOD_ERROR_BUDGET_REMAINING: &str = "slo:period_error_budget_remaining:ratio";
    pub const INFO: &str = "sloth_slo_info";
}

/// The SLI recording rule over `window` (`5m`, `30d`...): `slo:sli_error:ratio_rate5m`.
pub fn sli_error_record(window: &str) -> String {
    format!("slo:sli_error:ratio_rate{window}")
}

/// The three rule groups of every SLO: SLI recordings, metadata recordings,
/// then alerts (absent when both alerts are disabled).
pub fn rule_groups(spec: &SloSpec, options: &Options) -> Vec<RuleGroup> {
    let mut groups = Vec::new();
    for slo in &spec.slos {
        let ids = Ids::new(spec, slo);
        groups.push(sli_group(spec, slo, &ids, options));
        groups.push(meta_group(spec, slo, &ids, options));
        let alerts = alert_rules(spec, slo, &ids, options);
        if !alerts.is_empty() {
            groups.push(RuleGroup {
                name: format!("sloth-slo-alerts-{}", ids.id),
                interval: None,
                rules: alerts,
            });
        }
    }
    groups
}

struct Ids {
    id: String,
    /// `sloth_id`, `sloth_service`, `sloth_slo`.
    labels: BTreeMap<String, String>,
    /// `{sloth_id="...", sloth_service="...", sloth_slo="..."}`.
    filter: String,
}

impl Ids {
    fn new(spec: &SloSpec, slo: &Slo) -> Ids {
        let id = slo.id(&spec.service);
        let labels: BTreeMap<String, String> = [
            (labels::SLOTH_ID, id.as_str()),
            (labels::SLOTH_SERVICE, spec.service.as_str()),
            (labels::SLOTH_SLO, slo.name.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let filter = labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ids {
            id,
            labels,
            filter: format!("{{{filter}}}"),
        }
    }
}

/// The spec's and the SLO's own labels.
fn slo_labels(spec: &SloSpec, slo: &Slo) -> BTreeMap<String, String> {
    let mut labels = spec.labels.clone();
    labels.extend(slo.labels.clone());
    labels
}

fn sli_group(spec: &SloSpec, slo: &Slo, ids: &Ids, options: &Options) -> RuleGroup {
    let period = options.period;
    // The period's ratio averages the shortest window's, as Sloth's optimised
    // rule does: a 30-day rate() over raw series would be far too costly.
    let shortest = format_duration(period.alert_windows()[0].short);
    let rules = period
        .sli_windows()
        .into_iter()
        .map(|window| {
            let name = format_duration(window);
            if window == period.duration() {
                let source = sli_error_record(&shortest);
                Rule::record(
                    sli_error_record(&name),
                    format!(
                        "sum_over_time({source}{filter}[{name}])\n/ ignoring ({window_label})\ncount_over_time({source}{filter}[{name}])\n",
                        filter = ids.filter,
                        window_label = labels::SLOTH_WINDOW,
                    ),
                )
                // Sloth sets only the window label here and lets the rest come
                // from the source series; the identity labels are added so that
                // two SLOs' period rules are not duplicates to `promtool check rules`.
                .labels(ids.labels.clone())
                .labels([(labels::SLOTH_WINDOW.to_owned(), name.clone())])
                .labels(slo_labels(spec, slo))
            } else {
                Rule::record(sli_error_record(&name), slo.error_ratio_query(&name))
                    .labels(ids.labels.clone())
                    .labels([(labels::SLOTH_WINDOW.to_owned(), name.clone())])
                    .labels(slo_labels(spec, slo))
            }
        })
        .collect();
    RuleGroup {
        name: format!("sloth-slo-sli-recordings-{}", ids.id),
        interval: None,
        rules,
    }
}

fn meta_group(spec: &SloSpec, slo: &Slo, ids: &Ids, options: &Options) -> RuleGroup {
    let period = options.period;
    let mut labels = ids.labels.clone();
    labels.extend(slo_labels(spec, slo));
    let filter = &ids.filter;
    let objective = go_float(slo.objective_ratio());
    let burn_rate = |window: &str| {
        format!(
            "{sli}{filter}\n/ on({id}, {slo_label}, {service}) group_left\n{budget}{filter}\n",
            sli = sli_error_record(window),
            id = labels::SLOTH_ID,
            slo_label = labels::SLOTH_SLO,
            service = labels::SLOTH_SERVICE,
            budget = records::ERROR_BUDGET,
        )
    };
    let shortest = format_duration(period.alert_windows()[0].short);
    let info_labels = [
        (
            "sloth_version",
            concat!("alerts-", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
        ("sloth_mode", "cli-gen-prom".to_owned()),
        ("sloth_spec", VERSION.to_owned()),
        ("sloth_objective", format!("{}", slo.objective)),
    ];
    let rules = vec![
        Rule::record(records::OBJECTIVE, format!("vector({objective})")),
        Rule::record(records::ERROR_BUDGET, format!("vector(1-{objective})")),
        Rule::record(
            records::TIME_PERIOD_DAYS,
            format!("vector({})", go_float(f64::from(period.days()))),
        ),
        Rule::record(records::CURRENT_BURN_RATE, burn_rate(&shortest)),
        Rule::record(records::PERIOD_BURN_RATE, burn_rate(&period.window())),
        Rule::record(
            records::PERIOD_ERROR_BUDGET_REMAINING,
            format!("1 - {}{filter}", records::PERIOD_BURN_RATE),
        ),
        Rule::record(records::INFO, "vector(1)").labels(info_labels),
    ]
    .into_iter()
    .map(|rule| rule.labels(labels.clone()))
    .collect();
    RuleGroup {
        name: format!("sloth-slo-meta-recordings-{}", ids.id),
        interval: None,
        rules,
    }
}

fn alert_rules(spec: &SloSpec, slo: &Slo, ids: &Ids, options: &Options) -> Vec<Rule> {
    let alerting = &slo.alerting;
    let budget = slo.error_budget_ratio();
    let mut rules = Vec::new();
    for window in options.period.alert_windows() {
        let (settings, for_) = match window.severity {
            Severity::Page => (&alerting.page_alert, options.page_for),
            Severity::Ticket => (&alerting.ticket_alert, options.ticket_for),
        };
        if settings.disable {
            continue;
        }
        let severity = window.severity.as_str();
        let threshold = format!("({} * {})", go_float(window.burn_rate), go_float(budget));
        let short = sli_error_record(&format_duration(window.short));
        let long = sli_error_record(&format_duration(window.long));
        let expr = format!(
            "({short}{filter} > {threshold})\nand ignoring ({window_label})\n({long}{filter} > {threshold})\n",
            filter = ids.filter,
            window_label = labels::SLOTH_WINDOW,
        );

        let mut rule_labels = BTreeMap::from([(labels::SEVERITY.to_owned(), severity.to_owned())]);
        rule_labels.extend(alerting.labels.clone());
        rule_labels.extend(settings.labels.clone());
        rule_labels.insert(labels::SLOTH_SEVERITY.into(), severity.into());
        rule_labels.insert(labels::TIER.into(), window.tier());

        let mut annotations = BTreeMap::from([
            (
                "title".to_owned(),
                format!(
                    "({severity}) {{{{$labels.{}}}}} {{{{$labels.{}}}}} SLO error budget burn rate is too fast.",
                    labels::SLOTH_SERVICE,
                    labels::SLOTH_SLO
                ),
            ),
            (
                "summary".to_owned(),
                format!(
                    "{{{{$labels.{}}}}} {{{{$labels.{}}}}} SLO error budget burn rate is over expected.",
                    labels::SLOTH_SERVICE,
                    labels::SLOTH_SLO
                ),
            ),
            ("description".to_owned(), description(spec, slo, &window, options)),
            (
                "runbook_url".to_owned(),
                options.runbook_url(&alerting.name),
            ),
        ]);
        annotations.extend(alerting.annotations.clone());
        annotations.extend(settings.annotations.clone());

        let mut rule = Rule::alert(&alerting.name, expr).for_(for_.map(format_duration));
        rule.labels = rule_labels;
        rule.annotations = annotations;
        rules.push(rule);
    }
    rules
}

fn description(spec: &SloSpec, slo: &Slo, window: &AlertWindow, options: &Options) -> String {
    let period = options.period;
    let threshold = window.burn_rate * slo.error_budget_ratio();
    let hours_left = period.duration().as_secs_f64() / 3600.0 / window.burn_rate;
    let lasts = if hours_left < 72.0 {
        format!("{} hours", trim(hours_left, 0))
    } else {
        format!("{} days", trim(hours_left / 24.0, 1))
    };
    format!(
        "The {service} {slo} SLO ({objective} % over {days} days) is burning its error budget \
         at {factor}x the sustainable rate: the error ratio is above {threshold} % over both the \
         last {long} and the last {short}. At this rate the whole budget lasts {lasts}. \
         Error ratio over {short}: {{{{ $value | humanizePercentage }}}}.",
        service = spec.service,
        slo = slo.name,
        objective = slo.objective,
        days = period.days(),
        factor = trim(window.burn_rate, 2),
        threshold = trim(threshold * 100.0, 3),
        long = format_duration(window.long),
        short = format_duration(window.short),
    )
}

/// A number with at most `decimals` decimals and no trailing zeros.
fn trim(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}
