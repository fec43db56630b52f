//! The metric contract as the Markdown table the docs show, generated so
//! that the docs cannot drift from the code (a test compares them).

use std::fmt::Write as _;

use crate::contract::metrics::{
    labels, names, CheckoutFailure, CONTRACT, LATENCY_BUCKETS, UNMATCHED_ROUTE,
};

/// The table of every contract metric (name, type, labels, meaning), then
/// the buckets and the label values that are fixed sets.
pub fn contract_markdown() -> String {
    let mut out = String::from("| metric | type | labels | meaning |\n| --- | --- | --- | --- |\n");
    for spec in CONTRACT {
        let labels = spec
            .labels
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            spec.name,
            spec.kind.as_str(),
            labels,
            spec.help
        );
    }
    let _ = writeln!(
        out,
        "| `{}*` | | | CPU, memory, file descriptors and start time of the process (`{}`, `{}`, `{}`, `{}`, ...) |",
        names::PROCESS_PREFIX,
        names::PROCESS_CPU_SECONDS,
        names::PROCESS_RESIDENT_MEMORY,
        names::PROCESS_OPEN_FDS,
        names::PROCESS_MAX_FDS,
    );
    let buckets = LATENCY_BUCKETS
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let reasons = CheckoutFailure::ALL
        .iter()
        .map(|r| format!("`{}`", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = write!(
        out,
        "\nLatency histogram buckets (seconds): {buckets} and +Inf.\n\
         `{route}` is the matched route pattern (`/product/{{slug}}`), never the raw path; \
         a request that matches no route is `{UNMATCHED_ROUTE}`.\n\
         `{reason}` is one of {reasons}.\n",
        route = labels::HTTP_ROUTE,
        reason = labels::REASON,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_metric_has_a_row() {
        let table = contract_markdown();
        for spec in CONTRACT {
            let row = table
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", spec.name)))
                .unwrap_or_else(|| panic!("no row for {}", spec.name));
            assert!(row.contains(spec.help), "{row}");
            for label in spec.labels {
                assert!(row.contains(&format!("`{label}`")), "{row}");
            }
        }
    }
}
