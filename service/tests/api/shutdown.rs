//! SIGTERM with requests in flight: every one of them completes and the
//! process exits 0. Runs the real binary, since signals are per process.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::client;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin_port) = (free_port(), free_port());
    let mut shop = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env("SHOP_LISTEN", format!("127.0.0.1:{port}"))
        .env("SHOP_ADMIN_LISTEN", format!("127.0.0.1:{admin_port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/shop.db", dir.path().display()),
        )
        .env("SHOP_ADMIN_TOKEN", "test-token")
        .env("SHOP_RATE_LIMIT", "off")
        .env("SHOP_SHUTDOWN_GRACE_SECONDS", "30")
        .stdout(Stdio::null())
        .spawn()
        .expect("the shop binary starts");
    let client = client();
    let admin = format!("http://127.0.0.1:{admin_port}");
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{admin}/readyz")).send().await {
            ready = r.status() == StatusCode::OK;
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the shop never became ready");

    // Slow requests down so that they are surely in flight at SIGTERM.
    let fault = client
        .post(format!("{admin}/admin/faults"))
        .bearer_auth("test-token")
        .json(&json!({"kind": "latency", "route": "/", "latency_ms": 1500, "duration_seconds": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(fault.status(), StatusCode::CREATED);

    let in_flight = tokio::spawn({
        let client = client.clone();
        async move {
            join_all((0..8).map(|_| client.get(format!("http://127.0.0.1:{port}/")).send())).await
        }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &shop.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    tokio::time::sleep(Duration::from_millis(200)).await;
    let readiness = client.get(format!("{admin}/readyz")).send().await.unwrap();
    assert_eq!(
        readiness.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "still ready while draining"
    );

    for response in in_flight.await.unwrap() {
        let response = response.expect("an in-flight request was dropped");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.text().await.unwrap().contains(r#"id="page-home""#));
    }
    let status = tokio::task::spawn_blocking(move || shop.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "the shop did not exit cleanly");
    let refused = client.get(format!("http://127.0.0.1:{port}/")).send().await;
    assert!(refused.is_err(), "the shop still answers after exiting");
}
