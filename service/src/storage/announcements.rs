//! What PostgreSQL announces to every replica: product changes, on which
//! the product cache evicts the product (whichever replica or operator
//! changed it), and fault changes, on which the fault store reloads the
//! active faults. One `LISTEN` connection carries both channels.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::Database;

/// The channel the products trigger notifies, with the product's id.
const PRODUCTS: &str = "shop_products";
/// The channel the faults trigger notifies.
const FAULTS: &str = "shop_faults";
/// How long one attempt to (re)connect the listener may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between attempts while the database is unreachable.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Listens until the task is aborted. While the listener is disconnected the
/// product cache is not trusted; every reconnection starts it empty and
/// reloads the faults, which may have changed meanwhile.
pub(super) async fn listen(url: String, db: Database) {
    let cache = db.products.clone();
    loop {
        let mut listener = match connect(&url).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "announcement listener cannot connect yet");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        cache.set_channel_up(true);
        tracing::debug!("announcement listener connected");
        db.reload_faults().await;
        // `Ok(None)` is a lost connection; an error ends the listener too.
        while let Ok(Some(notification)) = listener.try_recv().await {
            match (
                notification.channel(),
                notification.payload().parse::<i64>(),
            ) {
                (FAULTS, _) => db.reload_faults().await,
                (_, Ok(id)) => cache.invalidate([id]),
                (_, Err(_)) => cache.clear(),
            }
        }
        cache.set_channel_up(false);
        tracing::warn!("announcement listener lost its connection; product cache off");
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let attempt = async {
        let mut listener = PgListener::connect(url).await?;
        // A lost connection ends the loop above, which reconnects.
        listener.eager_reconnect(false);
        listener.listen_all([PRODUCTS, FAULTS]).await?;
        Ok(listener)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
}
