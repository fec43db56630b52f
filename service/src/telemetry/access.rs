//! The access log: one line per request, target `shop::access`, at `info`.
//!
//! With the JSON logs and no trace export (the default), the line is written
//! straight by the [`JsonLayer`], with the same keys and values the event
//! would have, and `RUST_LOG` decides as it does for the event. Otherwise it
//! is an ordinary `tracing` event.

use std::time::Duration;

use actix_web::http::StatusCode;
use tracing::{
    callsite::DefaultCallsite, field::FieldSet, level_filters::LevelFilter, metadata::Kind,
    Dispatch, Level, Metadata,
};

use super::JsonLayer;

const TARGET: &str = "shop::access";
/// The level and target as the JSON line has them.
const LEVEL_AND_TARGET: &str = r#","level":"INFO","target":"shop::access""#;

/// The access line's callsite, so that `RUST_LOG`'s answer for it is asked
/// once and kept, as for any event.
static CALLSITE: DefaultCallsite = DefaultCallsite::new(&METADATA);
static METADATA: Metadata<'static> = Metadata::new(
    "access",
    TARGET,
    Level::INFO,
    Some(file!()),
    Some(line!()),
    Some(module_path!()),
    FieldSet::new(
        &["message", "method", "route", "status", "duration_ms"],
        tracing::callsite::Identifier(&CALLSITE),
    ),
    Kind::EVENT,
);

/// One request, as its access-log line shows it.
pub(crate) struct AccessLine<'a> {
    pub(crate) method: &'a str,
    /// The route pattern, never the raw path.
    pub(crate) route: &'a str,
    pub(crate) status: u16,
    pub(crate) micros: u64,
}

/// Writes the access-log line of one request.
pub(crate) fn access_log(method: &'static str, route: &str, status: StatusCode, elapsed: Duration) {
    let line = AccessLine {
        method,
        route,
        status: status.as_u16(),
        micros: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
    };
    let written = tracing::dispatcher::get_default(|dispatch| {
        let Some(json) = dispatch
            .downcast_ref::<JsonLayer>()
            .filter(|json| json.takes_access_lines())
        else {
            return false;
        };
        if enabled(dispatch) {
            json.write_access(&METADATA, LEVEL_AND_TARGET, &line);
        }
        true
    });
    if !written {
        tracing::info!(
            target: TARGET,
            method,
            route,
            status = line.status,
            duration_ms = line.micros as f64 / 1000.0,
            "request"
        );
    }
}

/// Whether `RUST_LOG` lets the access line through, asked as the `tracing`
/// macros ask for an event.
fn enabled(dispatch: &Dispatch) -> bool {
    if Level::INFO > LevelFilter::current() {
        return false;
    }
    let interest = CALLSITE.interest();
    interest.is_always() || (!interest.is_never() && dispatch.enabled(&METADATA))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::{configuration::LogFormat, telemetry::test_support};

    fn lines(filter: &str, format: LogFormat, write: impl FnOnce()) -> Vec<Value> {
        test_support::capture(
            |lines| crate::telemetry::get_subscriber(filter, format, move || lines.clone()),
            write,
        )
    }

    fn without_timestamp(mut line: Value) -> Value {
        line.as_object_mut().unwrap().remove("timestamp");
        line
    }

    #[test]
    fn the_direct_line_is_the_line_the_event_gives() {
        for micros in [1_004, 50, 3_000, 0, 12_345_678, 999] {
            let elapsed = Duration::from_micros(micros);
            let direct = lines("info", LogFormat::Json, || {
                access_log("GET", "/product/{slug}", StatusCode::OK, elapsed);
            });
            let event = test_support::capture(
                |lines| {
                    use tracing_subscriber::layer::SubscriberExt;
                    Box::new(
                        tracing_subscriber::Registry::default()
                            .with(JsonLayer::new(move || lines.clone())),
                    )
                },
                || access_log("GET", "/product/{slug}", StatusCode::OK, elapsed),
            );
            assert_eq!(direct.len(), 1, "{direct:?}");
            assert_eq!(
                without_timestamp(direct[0].clone()),
                without_timestamp(event[0].clone()),
                "{micros} µs"
            );
            assert_eq!(direct[0]["duration_ms"], micros as f64 / 1000.0);
        }
    }

    #[test]
    fn rust_log_turns_the_access_log_off_or_on() {
        let write = || access_log("POST", "/cart", StatusCode::SEE_OTHER, Duration::ZERO);
        assert!(lines("warn", LogFormat::Json, write).is_empty());
        assert!(lines("info,shop::access=warn", LogFormat::Json, write).is_empty());
        let on = lines("warn,shop::access=info", LogFormat::Json, write);
        assert_eq!(on.len(), 1);
        assert_eq!(on[0]["target"], TARGET);
        assert_eq!(on[0]["status"], 303);
    }
}
