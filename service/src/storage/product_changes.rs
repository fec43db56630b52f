//! The PostgreSQL side of the product cache's invalidation: a `LISTEN`
//! connection that evicts every product the `products_changed` trigger
//! announces, whichever replica or operator changed it.

use std::{sync::Arc, time::Duration};

use sqlx::postgres::PgListener;

use super::product_cache::ProductCache;

/// The channel the migration's trigger notifies.
const CHANNEL: &str = "shop_products";
/// How long one attempt to (re)connect the listener may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between attempts while the database is unreachable.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Listens until the task is aborted. While the listener is disconnected the
/// cache is not trusted; every reconnection starts it empty.
pub(super) async fn listen(url: String, cache: Arc<ProductCache>) {
    loop {
        let mut listener = match connect(&url).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "product change listener cannot connect yet");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        cache.set_channel_up(true);
        tracing::debug!("product change listener connected");
        // `Ok(None)` is a lost connection; an error ends the listener too.
        while let Ok(Some(notification)) = listener.try_recv().await {
            match notification.payload().parse::<i64>() {
                Ok(id) => cache.invalidate([id]),
                Err(_) => cache.clear(),
            }
        }
        cache.set_channel_up(false);
        tracing::warn!("product change listener lost its connection; product cache off");
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let attempt = async {
        let mut listener = PgListener::connect(url).await?;
        // A lost connection ends the loop above, which reconnects.
        listener.eager_reconnect(false);
        listener.listen(CHANNEL).await?;
        Ok(listener)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
}
