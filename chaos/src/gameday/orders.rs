//! The order ledger: the game day places orders of its own through the JSON
//! API, all the time, and remembers every order the shop acknowledged. After
//! a fault, each acknowledged order must still be there: an order the shop
//! confirmed and then lost is the worst thing a shop can do.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::timeline::unix_now;

/// Products of the seeded catalogue the ledger buys, in turn.
const PRODUCTS: i64 = 50;
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
struct Attempt {
    at: f64,
    /// The order id, when the shop answered 201 or 200.
    acknowledged: Option<String>,
}

/// Every order attempt so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger(Arc<Mutex<Vec<Attempt>>>);

/// What the ledger found for one window of time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Audit {
    pub(crate) attempts: usize,
    pub(crate) acknowledged: usize,
    /// Attempts the shop refused or that failed (during a fault, expected).
    pub(crate) failed: usize,
    /// Acknowledged, then not found afterwards.
    pub(crate) lost: Vec<String>,
}

impl Ledger {
    /// Places about `per_second` orders a second until `stop`. Carts are
    /// filled ahead of time, a minute's worth, so that during a database
    /// outage shoppers with full carts still reach the checkout, as they
    /// would in a real shop, and their failures count against its SLO.
    pub(crate) fn spawn(
        &self,
        shop_url: String,
        per_second: f64,
        stop: CancellationToken,
    ) -> JoinHandle<()> {
        let ledger = self.clone();
        let http = client();
        let carts: Arc<Mutex<VecDeque<String>>> = Arc::default();
        let buffer = (per_second * 60.0).ceil() as usize;
        tokio::spawn(async move {
            if per_second <= 0.0 {
                return;
            }
            let filler = fill_carts(&http, &shop_url, carts.clone(), buffer, stop.clone());
            let placer = async {
                let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        _ = ticks.tick() => {}
                    }
                    let at = unix_now();
                    let prepared = carts.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let cart = match prepared {
                        Some(cart) => Some(cart),
                        None => new_cart(&http, &shop_url, at as i64).await,
                    };
                    let acknowledged = match cart {
                        Some(cart) => check_out(&http, &shop_url, &cart).await,
                        None => None,
                    };
                    ledger
                        .0
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(Attempt { at, acknowledged });
                }
            };
            tokio::join!(filler, placer);
        })
    }

    /// Orders acknowledged at or after `since` (Unix seconds).
    pub(crate) fn acknowledged_since(&self, since: f64) -> usize {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|a| a.at >= since && a.acknowledged.is_some())
            .count()
    }

    /// Checks the attempts made between `from` and `to` (Unix seconds):
    /// every acknowledged order must be readable now.
    pub(crate) async fn audit(&self, shop_url: &str, from: f64, to: f64) -> Audit {
        let attempts: Vec<Attempt> = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|a| a.at >= from && a.at <= to)
            .cloned()
            .collect();
        let http = client();
        let mut audit = Audit {
            attempts: attempts.len(),
            ..Audit::default()
        };
        for attempt in attempts {
            match attempt.acknowledged {
                Some(id) => {
                    audit.acknowledged += 1;
                    if !order_exists(&http, shop_url, &id).await {
                        audit.lost.push(id);
                    }
                }
                None => audit.failed += 1,
            }
        }
        audit
    }
}

/// Keeps `buffer` carts with one item each ready for checkout.
async fn fill_carts(
    http: &reqwest::Client,
    shop: &str,
    carts: Arc<Mutex<VecDeque<String>>>,
    buffer: usize,
    stop: CancellationToken,
) {
    let mut n: i64 = 0;
    while !stop.is_cancelled() {
        let len = carts.lock().unwrap_or_else(|e| e.into_inner()).len();
        if len >= buffer {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        n += 1;
        match new_cart(http, shop, n).await {
            Some(cart) => carts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back(cart),
            None => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// A cart with one unit of a product, chosen by `n`; its id.
async fn new_cart(http: &reqwest::Client, shop: &str, n: i64) -> Option<String> {
    let api = format!("{shop}/api/v1");
    let cart = send(http.post(format!("{api}/carts"))).await?;
    let cart_id = cart.get("id")?.as_str()?.to_owned();
    send(
        http.post(format!("{api}/carts/{cart_id}/items"))
            .json(&json!({ "product_id": n.rem_euclid(PRODUCTS) + 1, "quantity": 1 })),
    )
    .await?;
    Some(cart_id)
}

/// Checks a cart out with an idempotency key; the order id if the shop
/// acknowledged it.
async fn check_out(http: &reqwest::Client, shop: &str, cart_id: &str) -> Option<String> {
    let order = send(
        http.post(format!("{shop}/api/v1/orders"))
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({
                "cart_id": cart_id,
                "name": "Game Day",
                "email": "gameday@example.com",
                "address": "1 Loopback Lane, Localhost",
            })),
    )
    .await?;
    Some(order.get("id")?.as_str()?.to_owned())
}

/// The JSON body of a 2xx answer; `None` for anything else.
async fn send(request: reqwest::RequestBuilder) -> Option<Value> {
    let response = request.send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// Whether the shop has the order; retried, since the shop may still be
/// recovering.
async fn order_exists(http: &reqwest::Client, shop: &str, id: &str) -> bool {
    for _ in 0..10 {
        match http.get(format!("{shop}/api/v1/orders/{id}")).send().await {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => return false,
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    false
}
