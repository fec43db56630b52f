//! A database outage: the shop answers 503 quickly instead of hanging,
//! `/readyz` fails, and the shop recovers by itself when the database returns.

use std::{net::SocketAddr, time::Duration};

use reqwest::StatusCode;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::helpers::{fresh_postgres_database, KNIFE_SLUG};

/// A TCP relay in front of PostgreSQL that the test can cut and restore.
///
/// While cut it keeps its port and closes every connection at once: a
/// port it let go of could be taken meanwhile (by another test's socket,
/// or by the shop's own reconnects to it), and then not be had back.
struct Relay {
    address: SocketAddr,
    cut: watch::Sender<bool>,
    _task: AbortOnDrop,
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (cut, _) = watch::channel(false);
        let task = Self::serve(listener, upstream, cut.subscribe());
        Relay {
            address,
            cut,
            _task: AbortOnDrop(task),
        }
    }

    fn serve(
        listener: TcpListener,
        upstream: String,
        cut: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if *cut.borrow() {
                    // Closed at once, as the database is down.
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = cut.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        })
    }

    /// Closes every relayed connection, and every new one at once.
    fn cut(&self) {
        self.cut.send_replace(true);
    }

    fn restore(&self) {
        self.cut.send_replace(false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_503s_and_the_shop_recovers_by_itself() {
    let database = fresh_postgres_database().await;
    let (credentials_and_host, name) = database.url().rsplit_once('/').unwrap();
    let (scheme_and_user, host) = credentials_and_host.rsplit_once('@').unwrap();
    let relay = Relay::start(host.to_owned()).await;
    let via_relay = format!("{scheme_and_user}@{}/{name}", relay.address);

    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Postgres, |settings| {
        settings.database_url = via_relay.clone();
    })
    .await;
    let product = format!("/product/{KNIFE_SLUG}");
    assert_eq!(app.get(&product).await.status(), StatusCode::OK);

    relay.cut();
    // The product was cached; the cache lets go once its listener notices
    // the cut, a moment after the relay closed the connections.
    let mut answered_503 = false;
    for _ in 0..50 {
        if app.get(&product).await.status() == StatusCode::SERVICE_UNAVAILABLE {
            answered_503 = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        answered_503,
        "the product page still answers during the outage"
    );
    for _ in 0..3 {
        let response = app.get(&product).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("retry-after"));
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("cannot reach its database"));
    }
    let api = app.get("/api/v1/products/1").await;
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    let readiness = app
        .client
        .get(app.admin_url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(readiness.status(), StatusCode::SERVICE_UNAVAILABLE);
    let liveness = app
        .client
        .get(app.admin_url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        liveness.status(),
        StatusCode::OK,
        "an outage must not get the shop restarted"
    );

    relay.restore();
    let mut recovered = false;
    for _ in 0..60 {
        let readiness = app
            .client
            .get(app.admin_url("/readyz"))
            .send()
            .await
            .unwrap();
        if readiness.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the shop did not become ready again");
    assert_eq!(app.get(&product).await.status(), StatusCode::OK);
    assert!(
        app.metrics().await.contains(r#"outcome="error""#),
        "failed queries were not counted"
    );
}
