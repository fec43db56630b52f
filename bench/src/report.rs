//! A run's results: the JSON the bench writes, and the Markdown the README
//! shows (rendered from that JSON, so the two never disagree).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::{checkout::Audit, machine::Machine, stats::quartiles, targets, wrk::Measurement};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// What a wrk run requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Reference,
    ProductPage,
    HomePage,
    CatalogueApi,
    MetricsScrape,
    Checkout,
    /// The product page of a shop started with `SHOP_TELEMETRY=off`.
    ProductPageWithoutTelemetry,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Reference => "reference handler (actix-web, fixed body)",
            Kind::ProductPage => "product page `GET /product/{slug}`",
            Kind::HomePage => "home page `GET /`",
            Kind::CatalogueApi => "JSON catalogue `GET /api/v1/products`",
            Kind::MetricsScrape => "metrics scrape `GET /metrics` (admin port)",
            Kind::Checkout => "checkout `POST /api/v1/orders` (orders/s)",
            Kind::ProductPageWithoutTelemetry => "product page, `SHOP_TELEMETRY=off`",
        }
    }
}

/// One measured case: medians over the rounds.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Case {
    pub kind: Kind,
    pub backend: Option<Backend>,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Median over the rounds of this case's rate over the reference
    /// handler's rate in the same round.
    pub share: f64,
    /// Socket errors and non-2xx/3xx answers, over all rounds.
    pub errors: u64,
    pub rounds: Vec<Measurement>,
}

/// Figures of one backend that are not a wrk rate.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct BackendFigures {
    pub backend: Backend,
    /// Median, over several starts, from spawning the process to `/readyz`
    /// answering 200, on an already seeded database.
    pub ready_ms: f64,
    pub ready_runs_ms: Vec<f64>,
    /// Resident set size after the product-page run (the largest of the rounds).
    pub resident_mib: f64,
    /// The median of `telemetry_costs`.
    pub telemetry_cost: Option<f64>,
    /// For each short run without telemetry, 1 − (rate with telemetry /
    /// rate without), the rate with telemetry being the mean of the runs
    /// just before and just after it. Runs from before these were recorded
    /// had one such figure per round, kept only as their median.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telemetry_costs: Vec<f64>,
    pub checkout_audit: Option<Audit>,
}

/// loadgen (`loadgen flood`) and wrk against the reference handler with the
/// same connections.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct LoadgenFigures {
    pub wrk_requests_per_second: f64,
    pub loadgen_requests_per_second: f64,
    /// Median over the rounds of loadgen's rate over wrk's.
    pub share: f64,
    /// Requests per second of CPU time the generator itself used.
    pub wrk_requests_per_cpu_second: f64,
    pub loadgen_requests_per_cpu_second: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Settings {
    pub connections: u32,
    pub threads: u32,
    /// `loadgen --threads`; none in runs from before the option, which
    /// ran one thread per core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loadgen_threads: Option<u32>,
    pub duration_seconds: u64,
    pub rounds: u32,
    /// The telemetry figure's runs without telemetry per round and
    /// backend, and the length of its runs; none in runs from before they
    /// were separate, which had one pair of 10 s runs per round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry_pairs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry_run_seconds: Option<u64>,
    /// When the run began (UTC).
    pub started: String,
    /// The commit measured, `+dirty` when the shop's sources had changes.
    pub commit: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub settings: Settings,
    pub cases: Vec<Case>,
    pub backends: Vec<BackendFigures>,
    pub loadgen: Option<LoadgenFigures>,
}

impl Results {
    pub fn case(&self, kind: Kind, backend: Backend) -> Option<&Case> {
        self.cases
            .iter()
            .find(|c| c.kind == kind && c.backend == Some(backend))
    }

    pub fn backend(&self, backend: Backend) -> Option<&BackendFigures> {
        self.backends.iter().find(|b| b.backend == backend)
    }

    pub fn audit(&self, backend: Backend) -> Option<&Audit> {
        self.backend(backend)?.checkout_audit.as_ref()
    }

    pub fn telemetry_cost(&self, backend: Backend) -> Option<f64> {
        self.backend(backend)?.telemetry_cost
    }
}

/// The Markdown the README's performance section shows.
pub fn markdown(results: &Results) -> String {
    let (m, s) = (&results.machine, &results.settings);
    let mut out = String::new();
    let _ =
        writeln!(
        out,
        "Measured {} at `{}` on {} ({} cores, {} GiB, Linux {}; load average {:.2} at the start), \
         wrk and the server sharing the machine: {} connections, {} wrk threads, {} s per run, \
         median of {} rounds.\n",
        s.started, s.commit, m.cpu, m.cores, m.memory_gib, m.kernel, m.load_average,
        s.connections, s.threads, s.duration_seconds, s.rounds
    );
    out.push_str(
        "| what | backend | requests/s | share of reference | p50 ms | p99 ms | errors |\n",
    );
    out.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for case in &results.cases {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} % | {:.2} | {:.2} | {} |",
            case.kind.label(),
            case.backend.map_or("–", Backend::label),
            thousands(case.requests_per_second),
            case.share * 100.0,
            case.p50_ms,
            case.p99_ms,
            case.errors
        );
    }
    out.push_str("\n| figure | SQLite | PostgreSQL |\n| --- | ---: | ---: |\n");
    let row = |out: &mut String, name: &str, cell: &dyn Fn(&BackendFigures) -> String| {
        let cells: Vec<String> = Backend::ALL
            .iter()
            .map(|&b| results.backend(b).map_or_else(|| "–".to_owned(), cell))
            .collect();
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    };
    row(&mut out, "telemetry cost (product page, on vs off)", &|b| {
        telemetry_cell(b.telemetry_cost, &b.telemetry_costs)
    });
    row(
        &mut out,
        "ready after start, seeded database (median)",
        &|b| format!("{:.0} ms", b.ready_ms),
    );
    row(
        &mut out,
        "resident memory after the product-page run",
        &|b| format!("{:.1} MiB", b.resident_mib),
    );
    row(
        &mut out,
        "checkout audit: orders, units sold, products oversold",
        &|b| {
            b.checkout_audit.as_ref().map_or_else(
                || "–".to_owned(),
                |a| {
                    format!(
                        "{}, {}, {}",
                        a.orders,
                        a.units_sold,
                        a.oversold_products.len()
                    )
                },
            )
        },
    );
    if let (Some(pairs), Some(seconds)) = (s.telemetry_pairs, s.telemetry_run_seconds) {
        let _ = writeln!(
            out,
            "\nTelemetry cost: per round and backend, {pairs} runs of the product page without \
             telemetry, each between two with it, {seconds} s each; for each, 1 − (the mean rate \
             of its neighbours with telemetry ÷ its rate), and the median over all rounds."
        );
    }
    if let Some(l) = &results.loadgen {
        let _ = writeln!(
            out,
            "\nLoad generators against the reference handler, {} connections each: wrk {} req/s \
             ({} per CPU-second it used), `loadgen{} flood` {} req/s ({} per CPU-second): \
             {:.1} % of wrk's rate.",
            s.connections,
            thousands(l.wrk_requests_per_second),
            thousands(l.wrk_requests_per_cpu_second),
            s.loadgen_threads
                .map(|n| format!(" --threads {n}"))
                .unwrap_or_default(),
            thousands(l.loadgen_requests_per_second),
            thousands(l.loadgen_requests_per_cpu_second),
            l.share * 100.0
        );
    }
    out.push_str("\n| target | measured | met |\n| --- | --- | --- |\n");
    for v in targets::judge(results) {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            v.target,
            v.measured,
            if v.met { "yes" } else { "**no**" }
        );
    }
    out
}

/// Where the README shows the results.
pub const README_START: &str = "<!-- bench-results:start -->";
pub const README_END: &str = "<!-- bench-results:end -->";

/// `readme` with the text between the result markers replaced by `markdown`.
pub fn splice(readme: &str, markdown: &str) -> Option<String> {
    let start = readme.find(README_START)? + README_START.len();
    let end = start + readme[start..].find(README_END)?;
    Some(format!(
        "{}\n{markdown}{}",
        &readme[..start],
        &readme[end..]
    ))
}

/// The telemetry cost with how widely its pairs of runs spread.
fn telemetry_cell(cost: Option<f64>, pairs: &[f64]) -> String {
    let Some(cost) = cost else {
        return "–".to_owned();
    };
    match quartiles(pairs.iter().copied()) {
        Some((low, high)) if pairs.len() >= 4 => format!(
            "{} (middle half of {} pairs: {} to {})",
            percent(cost),
            pairs.len(),
            percent(low),
            percent(high)
        ),
        _ => percent(cost),
    }
}

/// A share with one decimal: 0.0375 → "3.8 %". A cost the noise made
/// slightly negative keeps its sign (-0.3 %), but one that rounds to zero
/// is 0.0 %, not "-0.0 %".
pub fn percent(share: f64) -> String {
    let rounded = (share * 1000.0).round() / 10.0;
    if rounded == 0.0 {
        "0.0 %".to_owned()
    } else {
        format!("{rounded:.1} %")
    }
}

/// 12345.6 → "12,346".
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splicing_replaces_only_the_text_between_the_markers() {
        let readme = format!("# Shop\n{README_START}\nold\n{README_END}\nrest\n");
        let new = splice(&readme, "| new |\n").unwrap();
        assert_eq!(
            new,
            format!("# Shop\n{README_START}\n| new |\n{README_END}\nrest\n")
        );
        assert_eq!(splice("no markers", "x"), None);
    }

    /// The README shows what `bench/results/results.json` says: both are
    /// written by the same run of `bench/run.sh`.
    #[test]
    fn the_readme_shows_the_committed_results() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read_to_string(dir.join("results/results.json")).unwrap();
        let results: Results = serde_json::from_str(&json).unwrap();
        let readme = std::fs::read_to_string(dir.join("../README.md")).unwrap();
        let expected = splice(&readme, &markdown(&results)).expect("result markers in README.md");
        assert!(
            readme == expected,
            "README.md's performance section differs from bench/results/results.json: \
             run bench/run.sh, or splice the results again"
        );
    }

    /// Results from before `--threads` say nothing of loadgen's threads;
    /// newer ones name them in the sentence comparing it with wrk.
    #[test]
    fn the_loadgen_sentence_names_its_threads_when_the_run_recorded_them() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read_to_string(dir.join("results/results.json")).unwrap();
        let mut results: Results = serde_json::from_str(&json).unwrap();
        results.settings.loadgen_threads = None;
        assert!(markdown(&results).contains("`loadgen flood`"));
        results.settings.loadgen_threads = Some(1);
        assert!(markdown(&results).contains("`loadgen --threads 1 flood`"));
        let json = serde_json::to_string(&results).unwrap();
        assert!(json.contains(r#""loadgen_threads":1"#), "{json}");
    }

    /// Results from before the telemetry figure had runs of its own show
    /// only its median; newer ones show how widely its pairs spread, and
    /// how they were run.
    #[test]
    fn the_telemetry_figure_shows_its_spread_when_the_run_recorded_its_pairs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read_to_string(dir.join("results/results.json")).unwrap();
        let mut results: Results = serde_json::from_str(&json).unwrap();
        for backend in &mut results.backends {
            backend.telemetry_costs.clear();
        }
        results.settings.telemetry_pairs = None;
        assert!(!markdown(&results).contains("middle half"));
        assert!(!markdown(&results).contains("Telemetry cost: per round"));

        let sqlite = &mut results.backends[0];
        sqlite.telemetry_costs = vec![0.05, -0.01, 0.02, 0.03, 0.01];
        sqlite.telemetry_cost = Some(0.02);
        results.settings.telemetry_pairs = Some(5);
        results.settings.telemetry_run_seconds = Some(2);
        let shown = markdown(&results);
        assert!(
            shown.contains("| 2.0 % (middle half of 5 pairs: 0.0 % to 4.0 %) |"),
            "{shown}"
        );
        assert!(shown.contains("5 runs of the product page without telemetry"));
        let json = serde_json::to_string(&results).unwrap();
        assert!(json.contains(r#""telemetry_costs":[0.05,"#), "{json}");
    }

    #[test]
    fn shares_round_to_one_decimal_and_never_show_minus_zero() {
        assert_eq!(percent(0.037_576), "3.8 %");
        assert_eq!(percent(-0.000_272), "0.0 %");
        assert_eq!(percent(-0.012), "-1.2 %");
        assert_eq!(percent(0.0), "0.0 %");
    }

    #[test]
    fn large_rates_are_grouped_by_thousands() {
        assert_eq!(thousands(12345.6), "12,346");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
    }
}
