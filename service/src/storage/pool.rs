//! Pool options shared by both backends.

use std::time::Duration;

use anyhow::Context;
use futures_util::future::BoxFuture;
use sqlx::{pool::PoolConnectionMetadata, pool::PoolOptions, Connection, Database};

/// Connections idle for longer than this are pinged before use.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// sqlx pings every connection it hands out by default: one more round trip
/// per query, which cost the product page a third of its throughput. A busy
/// connection was in use a moment ago and is as good as tested; only one that
/// sat idle (and may have been cut by a restart or a firewall meanwhile) is
/// pinged, and discarded if the ping fails.
pub(super) fn options<DB: Database>() -> PoolOptions<DB> {
    PoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(ping_if_idle::<DB::Connection>)
}

fn ping_if_idle<C: Connection>(
    connection: &mut C,
    meta: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if meta.idle_for > PING_IDLE_AFTER {
            connection.ping().await?;
        }
        Ok(true)
    })
}

/// A CA file that cannot be read fails every connection with a bare "No
/// such file or directory"; name the file and where it came from instead.
pub(super) fn check_root_certificate(url: &str) -> anyhow::Result<()> {
    let from_url = url
        .split_once('?')
        .into_iter()
        .flat_map(|(_, query)| query.split('&'))
        .find_map(|pair| pair.strip_prefix("sslrootcert="))
        .map(|path| (path.to_owned(), "sslrootcert in DATABASE_URL"));
    let source = from_url.or_else(|| {
        std::env::var("PGSSLROOTCERT")
            .ok()
            .map(|path| (path, "PGSSLROOTCERT"))
    });
    if let Some((path, source)) = source {
        std::fs::metadata(&path)
            .with_context(|| format!("reading the database CA certificate {path} ({source})"))?;
    }
    Ok(())
}
