//! The Markdown the README shows, rendered from a run's results (the JSON
//! the bench writes), so the two never disagree.

use std::fmt::Write as _;

use crate::{
    results::{percent, Backend, BackendFigures, Results},
    stats::quartiles,
    targets,
};

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
