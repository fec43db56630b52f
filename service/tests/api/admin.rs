use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Backend, KNIFE_SLUG};

crate::on_both_backends!(the_shop_is_healthy_and_ready_with_its_database);

async fn the_shop_is_healthy_and_ready_with_its_database(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.client.get(app.admin_url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let metrics = app.metrics().await;
    let system = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
    };
    assert!(
        metrics.contains(&format!(r#"db_system_name="{system}""#)),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_admin_port_is_not_reachable_on_the_public_port() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in ["/metrics", "/healthz", "/admin/faults"] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn route_labels_are_patterns_never_raw_paths() {
    let app = spawn_app(Backend::Sqlite).await;
    let products: Value = app
        .get("/api/v1/products?per_page=20")
        .await
        .json()
        .await
        .unwrap();
    for product in products["items"].as_array().unwrap() {
        app.get(&format!("/product/{}", product["slug"].as_str().unwrap()))
            .await;
    }
    app.get("/some/random/path").await;
    let metrics = app.metrics().await;
    let product_lines = metrics
        .lines()
        .filter(|l| {
            l.starts_with("http_server_request_duration_seconds_count")
                && l.contains(r#"http_route="/product/{slug}""#)
        })
        .count();
    assert_eq!(product_lines, 1, "one series for 20 products");
    assert!(
        !metrics.contains(KNIFE_SLUG),
        "a raw path leaked into a label"
    );
    assert!(metrics.contains(r#"http_route="unmatched""#));
}

#[tokio::test]
async fn the_fault_api_needs_the_bearer_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = app.admin_url("/admin/faults");
    let anonymous = app.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .client
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let disabled = spawn_app_with(Backend::Sqlite, |s| s.admin_token = None).await;
    let forbidden = disabled
        .client
        .get(disabled.admin_url("/admin/faults"))
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_error_fault_fails_its_route_shows_in_metrics_and_clears() {
    let app = spawn_app(Backend::Sqlite).await;
    let created = app
        .add_fault(json!({"kind": "error", "route": "/product/{slug}", "probability": 1.0, "status": 503, "duration_seconds": 60}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        app.get(&format!("/product/{KNIFE_SLUG}")).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        app.get("/").await.status(),
        StatusCode::OK,
        "the fault leaked to another route"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(
            r#"shop_fault_active{db_operation_name="",http_route="/product/{slug}",kind="error"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"http_response_status_code="503",http_route="/product/{slug}""#));

    let listed: Value = app
        .client
        .get(app.admin_url("/admin/faults"))
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["kind"], "error");

    let deleted = app
        .client
        .delete(app.admin_url(&format!("/admin/faults/{id}")))
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let again = app
        .client
        .delete(app.admin_url(&format!("/admin/faults/{id}")))
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/product/{KNIFE_SLUG}")).await.status(),
        StatusCode::OK
    );
    assert!(!app.metrics().await.contains("shop_fault_active{"));
}

#[tokio::test]
async fn a_database_fault_makes_the_shop_unready_until_it_is_cleared() {
    let app = spawn_app(Backend::Sqlite).await;
    assert!(app.metrics().await.contains("\nshop_ready 1\n"));
    // Cached: the outage must show on the page all the same.
    for _ in 0..2 {
        assert_eq!(
            app.get(&format!("/product/{KNIFE_SLUG}")).await.status(),
            StatusCode::OK
        );
    }
    assert!(app
        .metrics()
        .await
        .contains(r#"shop_product_cache_lookups_total{result="hit"} 1"#));
    let created = app
        .add_fault(
            json!({"kind": "error", "target": "database", "route": "*", "duration_seconds": 60}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    assert_eq!(
        app.get(&format!("/product/{KNIFE_SLUG}")).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let ready = app
        .client
        .get(app.admin_url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let metrics = app.metrics().await;
    assert!(metrics.contains("\nshop_ready 0\n"), "{metrics}");
    assert!(
        metrics
            .contains(r#"shop_fault_active{db_operation_name="*",http_route="",kind="error"} 1"#),
        "{metrics}"
    );

    let cleared = app
        .client
        .delete(app.admin_url("/admin/faults"))
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap();
    assert!(cleared.status().is_success());
    assert_eq!(
        app.get(&format!("/product/{KNIFE_SLUG}")).await.status(),
        StatusCode::OK
    );
    assert!(app.metrics().await.contains("\nshop_ready 1\n"));
}

#[tokio::test]
async fn a_database_fault_names_an_operation_not_a_path() {
    let app = spawn_app(Backend::Sqlite).await;
    let refused = app
        .add_fault(json!({"kind": "latency", "target": "database", "route": "/cart", "latency_ms": 10, "duration_seconds": 60}))
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("route"));
}

#[tokio::test]
async fn latency_and_abort_faults_do_what_they_say() {
    let app = spawn_app(Backend::Sqlite).await;
    app.add_fault(
        json!({"kind": "latency", "route": "/", "latency_ms": 300, "duration_seconds": 60}),
    )
    .await;
    let started = std::time::Instant::now();
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "no delay was added"
    );

    app.add_fault(json!({"kind": "abort", "route": "/search", "duration_seconds": 60}))
        .await;
    let aborted = app.client.get(app.url("/search?q=x")).send().await;
    let body = match aborted {
        Ok(response) => response.text().await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(body.is_err(), "an aborted request completed normally");
}

#[tokio::test]
async fn a_bad_fault_is_refused_naming_the_field() {
    let app = spawn_app(Backend::Sqlite).await;
    for (fault, field) in [
        (
            json!({"kind": "explode", "route": "*", "duration_seconds": 5}),
            "kind",
        ),
        (
            json!({"kind": "error", "route": "*", "probability": 2, "duration_seconds": 5}),
            "probability",
        ),
        (
            json!({"kind": "latency", "route": "*", "duration_seconds": 5}),
            "latency_ms",
        ),
        (
            json!({"kind": "error", "route": "*", "status": 200, "duration_seconds": 5}),
            "status",
        ),
        (json!({"kind": "error", "route": "*"}), "duration_seconds"),
        (
            json!({"kind": "error", "route": "*", "duration_seconds": 5, "colour": "red"}),
            "colour",
        ),
    ] {
        let response = app.add_fault(fault.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{fault}");
        let error = response.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(error.contains(field), "{fault} → {error}");
    }
}
