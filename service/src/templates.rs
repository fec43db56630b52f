//! The page templates, compiled into the binary and loaded once.
//!
//! The environment is a process-wide static rather than app state because
//! error pages are rendered from `ResponseError::error_response`, which has no
//! access to app state.

use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.jinja", include_str!("../templates/base.jinja")),
    ("macros.jinja", include_str!("../templates/macros.jinja")),
    ("home.jinja", include_str!("../templates/home.jinja")),
    (
        "category.jinja",
        include_str!("../templates/category.jinja"),
    ),
    ("search.jinja", include_str!("../templates/search.jinja")),
    ("product.jinja", include_str!("../templates/product.jinja")),
    ("cart.jinja", include_str!("../templates/cart.jinja")),
    (
        "checkout.jinja",
        include_str!("../templates/checkout.jinja"),
    ),
    ("order.jinja", include_str!("../templates/order.jinja")),
    ("login.jinja", include_str!("../templates/login.jinja")),
    (
        "register.jinja",
        include_str!("../templates/register.jinja"),
    ),
    ("orders.jinja", include_str!("../templates/orders.jinja")),
    ("error.jinja", include_str!("../templates/error.jinja")),
];

// The error is kept as text: minijinja's error type cannot be cloned out of the static.
static ENVIRONMENT: LazyLock<Result<Environment<'static>, String>> =
    LazyLock::new(|| environment().map_err(|e| format!("{e:#}")));

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    // Every template is HTML, whatever its file name says.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // In tests and debug builds a value the page uses but the handler did not
    // give fails the render, so that a field cannot silently print as
    // nothing; a release build stays lenient and shows the rest of the page.
    if cfg!(debug_assertions) {
        env.set_undefined_behavior(UndefinedBehavior::Strict);
    }
    env.add_filter("money", money);
    env.add_filter("date", date);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Compiles every template now, so that a broken one stops start-up with a
/// clear error instead of failing the first request.
pub fn check() -> anyhow::Result<()> {
    ENVIRONMENT
        .as_ref()
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Renders a template with a serialisable context.
pub fn render(name: &str, context: impl Serialize) -> anyhow::Result<String> {
    let env = ENVIRONMENT.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(env.get_template(name)?.render(context)?)
}

/// 1234 → "€12.34".
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}€{}.{:02}", cents / 100, cents % 100)
}

/// Unix seconds → "24 Nov 2026, 14:05 UTC".
fn date(seconds: i64) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| "an unknown date".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        check().unwrap();
    }

    #[test]
    fn money_shows_euros_and_two_digit_cents() {
        assert_eq!(money(1234), "€12.34");
        assert_eq!(money(5), "€0.05");
        assert_eq!(money(-250), "-€2.50");
    }

    #[test]
    fn dates_are_readable() {
        assert_eq!(date(0), "1 Jan 1970, 00:00 UTC");
    }

    #[test]
    fn a_value_the_handler_did_not_give_fails_the_render() {
        let error = render(
            "error.jinja",
            minijinja::context! { status => 400, title => "Oops",
            layout => minijinja::context! { categories => Vec::<()>::new(), cart_count => 0, customer => () } },
        )
        .unwrap_err();
        assert!(format!("{error:#}").contains("undefined"), "{error:#}");
    }

    #[test]
    fn html_in_values_is_escaped() {
        let html = render(
            "error.jinja",
            minijinja::context! { status => 400, title => "<script>", message => "x",
            layout => minijinja::context! { categories => Vec::<()>::new(), cart_count => 0, customer => () } },
        )
        .unwrap();
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }
}
