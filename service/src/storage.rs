//! Storage: one set of queries that runs on PostgreSQL or SQLite.
//!
//! Each query is written once and compiled for both backends by
//! [`with_pool!`]; where the dialects differ the SQL says so. Every operation
//! goes through [`Database::observe`], which names it for metrics and traces
//! and bounds it in time so that a database that stops answering gives quick
//! errors rather than hung requests.

mod announcements;
mod carts;
mod catalogue;
mod customers;
mod error;
mod faults;
mod orders;
mod outside_spans;
mod pool;
mod product_cache;
pub mod seed;

use std::{future::Future, str::FromStr, sync::Arc, time::Duration, time::Instant};

use anyhow::Context;
use sqlx::{
    postgres::PgPool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous},
};
use tracing::Instrument;

pub use carts::CartLine;
pub use catalogue::{Category, Page, Product, ProductFilter};
pub use customers::{Customer, NewCustomer};
pub use error::StorageError;
pub use orders::{Order, OrderLine, OrderSummary, PlaceOrder};

use outside_spans::OutsideSpans;
use product_cache::ProductCache;

use crate::{
    configuration::Settings,
    contract::metrics::db_system,
    faults::FaultStore,
    metrics::{DbMetrics, PoolState},
};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The connection pools of one backend.
#[derive(Clone)]
enum Backend {
    Postgres(PgPool),
    /// SQLite allows one writer at a time; a one-connection write pool makes
    /// writers queue in order in the shop instead of sleeping in SQLite's
    /// busy handler, while readers use their own pool.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
}

/// Runs `$body` with `$pool` bound to the backend's pool for `$mode` (`read`
/// or `write`). The body is compiled once per backend.
macro_rules! with_pool {
    ($db:expr, $mode:ident, |$pool:ident| $body:expr) => {
        match &$db.backend {
            $crate::storage::Backend::Postgres($pool) => $body,
            $crate::storage::Backend::Sqlite { $mode: $pool, .. } => $body,
        }
    };
}
pub(crate) use with_pool;

/// The shop's database.
#[derive(Clone)]
pub struct Database {
    backend: Backend,
    metrics: DbMetrics,
    query_timeout: Duration,
    /// The shop's fault store: database faults apply in [`Database::observe`].
    faults: Arc<FaultStore>,
    /// Products between requests; see [`product_cache`] for when an entry
    /// is served.
    products: Arc<ProductCache>,
    /// The PostgreSQL URL the announcement listener connects to.
    listen_url: Option<String>,
    /// The listener's task, stopped when the last clone is dropped.
    listener: Option<Arc<AbortOnDrop>>,
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Database {
    /// Opens the pools for `settings.database_url`. Connections are made
    /// lazily, so a shop can start while its database is still coming up.
    pub fn connect(settings: &Settings, metrics: DbMetrics) -> anyhow::Result<Self> {
        let url = settings.database_url.as_str();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            pool::check_root_certificate(url)?;
            let pool = pool::options::<sqlx::Postgres>()
                .max_connections(settings.db_max_connections)
                .acquire_timeout(settings.db_acquire_timeout())
                .connect_lazy(url)
                .context("parsing the PostgreSQL DATABASE_URL")?;
            Backend::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("parsing the SQLite DATABASE_URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let pool = |max| {
                pool::options::<sqlx::Sqlite>()
                    .max_connections(max)
                    .acquire_timeout(settings.db_acquire_timeout())
                    .connect_lazy_with(options.clone())
            };
            Backend::Sqlite {
                read: pool(settings.db_max_connections),
                write: pool(1),
            }
        } else {
            anyhow::bail!(
                "DATABASE_URL must start with sqlite:// or postgres://, got `{}`",
                crate::configuration::redact_password(url)
            );
        };
        let listen_url = matches!(backend, Backend::Postgres(_)).then(|| url.to_owned());
        Ok(Database {
            backend,
            metrics,
            query_timeout: settings.db_query_timeout(),
            faults: Arc::default(),
            // SQLite is written by this process only: its channel is always up.
            products: Arc::new(ProductCache::new(listen_url.is_none())),
            listen_url,
            listener: None,
        })
    }

    /// Starts listening for the product and fault changes announced by
    /// PostgreSQL (after [`Database::migrate`], which creates the triggers);
    /// nothing to do on SQLite. Until the listener connects, products are not
    /// cached.
    pub fn watch_announcements(&mut self) {
        if let (Some(url), None) = (&self.listen_url, &self.listener) {
            // The task's clone has no listener handle, so it does not keep
            // itself alive.
            let task = tokio::spawn(announcements::listen(url.clone(), self.clone()));
            self.listener = Some(Arc::new(AbortOnDrop(task.abort_handle())));
        }
    }

    /// Applies the backend's migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
            Backend::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await,
        }
        .context("applying database migrations")
    }

    /// `db_system_name` of this backend.
    pub fn system_name(&self) -> &'static str {
        match self.backend {
            Backend::Postgres(_) => db_system::POSTGRESQL,
            Backend::Sqlite { .. } => db_system::SQLITE,
        }
    }

    /// The fault store whose database faults this database applies; the
    /// admin fault API adds to it.
    pub fn faults(&self) -> &Arc<FaultStore> {
        &self.faults
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        self.observe("ping", async {
            with_pool!(self, read, |pool| sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))
            .map(|_| ())
        })
        .await
    }

    pub fn pool_state(&self) -> PoolState {
        fn state(size: u32, idle: usize, max: u32) -> PoolState {
            let idle = idle as u64;
            PoolState {
                idle,
                used: u64::from(size).saturating_sub(idle),
                max: u64::from(max),
            }
        }
        match &self.backend {
            Backend::Postgres(p) => {
                state(p.size(), p.num_idle(), p.options().get_max_connections())
            }
            Backend::Sqlite { read, write } => {
                let (r, w) = (
                    state(
                        read.size(),
                        read.num_idle(),
                        read.options().get_max_connections(),
                    ),
                    state(
                        write.size(),
                        write.num_idle(),
                        write.options().get_max_connections(),
                    ),
                );
                PoolState {
                    idle: r.idle + w.idle,
                    used: r.used + w.used,
                    max: r.max + w.max,
                }
            }
        }
    }

    pub async fn close(&self) {
        if let Some(listener) = &self.listener {
            listener.0.abort();
        }
        match &self.backend {
            Backend::Postgres(p) => p.close().await,
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
        }
    }

    /// Runs one named database operation: subject to injected database
    /// faults, bounded by the query timeout, recorded in
    /// `db_client_operation_duration_seconds`, traced as a span.
    async fn observe<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T> {
        let injected = self.faults.database_effect(operation);
        self.run(operation, injected, work).await
    }

    /// [`Database::observe`] for the fault API's own operations, which no
    /// injected fault touches.
    async fn observe_uninjected<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T> {
        self.run(operation, (Duration::ZERO, false), work).await
    }

    async fn run<T>(
        &self,
        operation: &'static str,
        (delay, unreachable): (Duration, bool),
        work: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T> {
        // A client span of the request's trace, with the OpenTelemetry
        // database attributes.
        let span = tracing::info_span!(
            "db.query",
            otel.name = operation,
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            db.system.name = self.system_name(),
            db.operation.name = operation,
            error.type = tracing::field::Empty,
        );
        let started = Instant::now();
        // An injected database fault acts like the database itself: its delay
        // counts against the query timeout, its failure is an unreachable
        // database.
        let sqlite = matches!(self.backend, Backend::Sqlite { .. });
        let work = async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if unreachable {
                return Err(sqlx::Error::PoolTimedOut);
            }
            OutsideSpans::new(work, sqlite).await
        };
        let result =
            match tokio::time::timeout(self.query_timeout, work.instrument(span.clone())).await {
                Ok(result) => result.map_err(StorageError::from),
                Err(_) => Err(StorageError::TimedOut(self.query_timeout)),
            };
        if let Err(error) = &result {
            span.record("otel.status_code", "ERROR");
            span.record(
                "error.type",
                match error {
                    StorageError::Unavailable(_) => "unavailable",
                    StorageError::TimedOut(_) => "timeout",
                    StorageError::Query(_) => "query",
                },
            );
        }
        self.metrics.observe(
            self.system_name(),
            operation,
            result.is_ok(),
            started.elapsed(),
        );
        match &result {
            Ok(_) => self.products.set_answering(true),
            Err(error) if error.is_unavailable() => self.products.set_answering(false),
            Err(_) => {}
        }
        result
    }
}

/// Whether an identifier from a URL or body can possibly name a row: ids and
/// slugs are short ASCII words. Anything else (a NUL byte, which PostgreSQL
/// refuses in text, or a megabyte of junk) is answered "not found" without
/// asking the database.
fn plausible_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Seconds since the Unix epoch.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
