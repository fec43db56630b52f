use crate::contract::faults::{FaultKind, FaultSpec, FaultTarget, ANY_ROUTE};

/// A fault spec that cannot be applied, naming the field at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{field}: {message}")]
pub struct InvalidFault {
    pub field: &'static str,
    pub message: String,
}

/// Longest a fault may live: a forgotten fault should not outlive a game day.
pub const MAX_DURATION_SECONDS: u64 = 24 * 60 * 60;
/// Longest injected latency.
pub const MAX_LATENCY_MS: u64 = 120_000;

/// Checks the values serde cannot.
pub fn validate(spec: &FaultSpec) -> Result<(), InvalidFault> {
    let invalid = |field, message: &str| {
        Err(InvalidFault {
            field,
            message: message.to_owned(),
        })
    };
    match spec.target {
        FaultTarget::Http if spec.route != ANY_ROUTE && !spec.route.starts_with('/') => {
            return invalid("route", "must be a route pattern starting with `/`, or `*`");
        }
        FaultTarget::Database if !is_operation_pattern(&spec.route) => {
            return invalid(
                "route",
                "must be a database operation name such as `get_product`, or `*`",
            );
        }
        FaultTarget::Database if spec.status.is_some() => {
            return invalid("status", "applies to HTTP faults only");
        }
        _ => {}
    }
    if !(0.0..=1.0).contains(&spec.probability) {
        return invalid("probability", "must be between 0.0 and 1.0");
    }
    if spec.duration_seconds == 0 || spec.duration_seconds > MAX_DURATION_SECONDS {
        return invalid("duration_seconds", "must be between 1 and 86400");
    }
    match spec.kind {
        FaultKind::Latency => match spec.latency_ms {
            None => return invalid("latency_ms", "is required for a latency fault"),
            Some(ms) if ms == 0 || ms > MAX_LATENCY_MS => {
                return invalid("latency_ms", "must be between 1 and 120000")
            }
            Some(_) => {}
        },
        FaultKind::Error => {
            if let Some(status) = spec.status {
                if !(400..=599).contains(&status) {
                    return invalid("status", "must be an HTTP error status, 400 to 599");
                }
            }
        }
        FaultKind::Abort => {}
    }
    Ok(())
}

fn is_operation_pattern(route: &str) -> bool {
    route == ANY_ROUTE
        || (!route.is_empty() && route.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
}
