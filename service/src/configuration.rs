//! Settings: command-line flags with environment fallbacks. The defaults run
//! the shop with no set-up at all (embedded SQLite file `shop.db`).

use std::{fmt, num::NonZeroU32, str::FromStr, time::Duration};

use clap::{Parser, ValueEnum};

mod cart_ttl;

pub use crate::cors::CorsOrigins;
pub use cart_ttl::CartTtl;

/// The shop's settings. Every flag also reads the environment variable named
/// in `--help`.
#[derive(Clone, Parser)]
#[command(
    name = "shop",
    version,
    about = "The observability-first web shop",
    long_about = "The observability-first web shop.\n\nServes pages and the JSON API on the public \
                  address, and /healthz, /readyz, /metrics and the fault API on the admin address. \
                  With no settings it runs on an embedded SQLite file, shop.db, in the current \
                  directory."
)]
pub struct Settings {
    /// Address for shoppers: pages and the JSON API.
    #[arg(long, env = "SHOP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Address for operators: /healthz, /readyz, /metrics and /admin/faults.
    #[arg(long, env = "SHOP_ADMIN_LISTEN", default_value = "127.0.0.1:8081")]
    pub admin_listen: String,

    /// `sqlite://FILE` (created on first start) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://shop.db")]
    pub database_url: String,

    /// Bearer token of the fault API; unset, the fault API answers 403.
    #[arg(long, env = "SHOP_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Key that signs and encrypts session cookies (at least 64 bytes).
    /// Unset, a random key is made at start: sessions do not survive a
    /// restart and are not shared between replicas.
    #[arg(long, env = "SHOP_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<String>,

    /// Mark session cookies Secure (set this behind TLS).
    #[arg(long, env = "SHOP_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Requests per second allowed per client IP (bursts of twice that), or
    /// `off` for load tests.
    #[arg(long, env = "SHOP_RATE_LIMIT", default_value = "50")]
    pub rate_limit: RateLimit,

    /// Size of the database connection pool.
    #[arg(long, env = "SHOP_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// How long a request waits for a database connection before it is
    /// answered 503.
    #[arg(long, env = "SHOP_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 1500)]
    pub db_acquire_timeout_ms: u64,

    /// Upper bound of any one database operation, so that a database that
    /// stops answering gives 503s rather than hung requests.
    #[arg(long, env = "SHOP_DB_QUERY_TIMEOUT_MS", default_value_t = 5000)]
    pub db_query_timeout_ms: u64,

    /// After SIGTERM, how long in-flight requests get to finish.
    #[arg(long, env = "SHOP_SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,

    /// After SIGTERM, how long /readyz fails before the listener closes, so
    /// that load balancers stop sending traffic first.
    #[arg(long, env = "SHOP_DRAIN_DELAY_SECONDS", default_value_t = 0)]
    pub drain_delay_seconds: u64,

    /// HTTP worker threads (default: one per CPU).
    #[arg(long, env = "SHOP_WORKERS")]
    pub workers: Option<usize>,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Request metrics, request and database spans, trace export, the access
    /// log and database operation metrics. `off` is for measuring what they
    /// cost (bench/run.sh): /metrics still answers, and only warnings and
    /// errors are logged.
    #[arg(long, env = "SHOP_TELEMETRY", value_enum, default_value_t = Telemetry::On)]
    pub telemetry: Telemetry,

    /// Origins allowed to call /api/v1 from a browser, comma-separated
    /// (`https://app.example,http://localhost:3000`); unset, no cross-origin
    /// access.
    #[arg(long, env = "SHOP_CORS_ALLOWED_ORIGINS", default_value = "")]
    pub cors_allowed_origins: CorsOrigins,

    /// Carts idle for longer than this many hours are deleted.
    #[arg(long, env = "SHOP_CART_TTL_HOURS", default_value = "72")]
    pub cart_ttl_hours: CartTtl,
}

impl Settings {
    /// Settings for a throwaway shop in tests and tools: free ports on
    /// loopback, no rate limiting, admin token `test-token`, two workers and
    /// short timeouts.
    pub fn ephemeral(database_url: &str) -> Self {
        Settings {
            listen: "127.0.0.1:0".into(),
            admin_listen: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            admin_token: Some("test-token".into()),
            session_key: None,
            secure_cookies: false,
            rate_limit: RateLimit::Off,
            db_max_connections: 10,
            db_acquire_timeout_ms: 1500,
            db_query_timeout_ms: 5000,
            shutdown_grace_seconds: 10,
            drain_delay_seconds: 0,
            workers: Some(2),
            log_format: LogFormat::Json,
            telemetry: Telemetry::On,
            cors_allowed_origins: CorsOrigins::default(),
            cart_ttl_hours: CartTtl::default(),
        }
    }

    pub fn db_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }

    pub fn db_query_timeout(&self) -> Duration {
        Duration::from_millis(self.db_query_timeout_ms)
    }
}

// Secrets stay out of logs and panics.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("admin_listen", &self.admin_listen)
            .field("database", &redact_password(&self.database_url))
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("session_key", &self.session_key.as_ref().map(|_| "<set>"))
            .field("rate_limit", &self.rate_limit)
            .field("db_max_connections", &self.db_max_connections)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("telemetry", &self.telemetry)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("cart_ttl_hours", &self.cart_ttl_hours)
            .finish_non_exhaustive()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// Per-client rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    Off,
    PerSecond(NonZeroU32),
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "off" | "0" => Ok(RateLimit::Off),
            n => n
                .parse::<NonZeroU32>()
                .map(RateLimit::PerSecond)
                .map_err(|_| format!("expected requests per second or `off`, got `{s}`")),
        }
    }
}

/// Whether the shop observes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Telemetry {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_parses_numbers_and_off() {
        assert_eq!("off".parse(), Ok(RateLimit::Off));
        assert_eq!(
            "25".parse(),
            Ok(RateLimit::PerSecond(NonZeroU32::new(25).unwrap()))
        );
        assert!("fast".parse::<RateLimit>().is_err());
    }

    #[test]
    fn passwords_never_reach_the_debug_output() {
        let mut settings = Settings::ephemeral("postgres://shop:hunter2@db/shop");
        settings.admin_token = Some("sekrit".into());
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("sekrit"), "{shown}");
        assert!(shown.contains("postgres://shop:***@db/shop"), "{shown}");
    }

    #[test]
    fn defaults_need_no_environment() {
        let settings = Settings::try_parse_from(["shop"]).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:8080");
        assert_eq!(settings.admin_listen, "127.0.0.1:8081");
        assert_eq!(settings.telemetry, Telemetry::On);
    }

    #[test]
    fn a_malformed_origin_list_is_refused_naming_the_setting() {
        let err =
            Settings::try_parse_from(["shop", "--cors-allowed-origins", "https://a.example/x"])
                .expect_err("refused")
                .to_string();
        assert!(err.contains("SHOP_CORS_ALLOWED_ORIGINS"), "{err}");
        assert!(err.contains("https://a.example/x"), "{err}");
    }

    #[test]
    fn a_malformed_cart_ttl_is_refused_naming_the_setting() {
        let err = Settings::try_parse_from(["shop", "--cart-ttl-hours", "soon"])
            .expect_err("refused")
            .to_string();
        assert!(err.contains("SHOP_CART_TTL_HOURS"), "{err}");
        assert_eq!(
            Settings::try_parse_from(["shop"]).unwrap().cart_ttl_hours,
            CartTtl::default()
        );
    }

    #[test]
    fn telemetry_can_be_switched_off() {
        let settings = Settings::try_parse_from(["shop", "--telemetry", "off"]).unwrap();
        assert_eq!(settings.telemetry, Telemetry::Off);
        assert!(Settings::try_parse_from(["shop", "--telemetry", "maybe"]).is_err());
    }
}
