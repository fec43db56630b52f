//! Cross-origin access to `/api/v1`: none by default, the configured origins
//! only, preflights answered, and never for the pages.

use reqwest::{header, Method, StatusCode};

use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

const ALLOWED: &str = "https://app.example";
const OTHER: &str = "https://evil.example";

async fn cors_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |s| {
        s.cors_allowed_origins = format!("{ALLOWED}, http://localhost:3000").parse().unwrap();
    })
    .await
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .send()
        .await
        .expect("OPTIONS failed")
}

async fn get_from(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(header::ORIGIN, origin)
        .send()
        .await
        .expect("GET failed")
}

fn allow_origin(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_answered() {
    let app = cors_app().await;
    let response = preflight(&app, "/api/v1/carts", ALLOWED).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(allow_origin(&response).as_deref(), Some(ALLOWED));
    let methods = response.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");
    let headers = response.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("content-type"), "{headers}");
}

#[tokio::test]
async fn an_allowed_origin_may_read_api_answers() {
    let app = cors_app().await;
    let response = get_from(&app, "/api/v1/categories", ALLOWED).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(allow_origin(&response).as_deref(), Some(ALLOWED));
}

#[tokio::test]
async fn an_origin_not_in_the_list_is_refused() {
    let app = cors_app().await;
    let response = preflight(&app, "/api/v1/carts", OTHER).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(allow_origin(&response), None);
    let response = get_from(&app, "/api/v1/categories", OTHER).await;
    assert_eq!(allow_origin(&response), None);
}

#[tokio::test]
async fn by_default_no_origin_has_cross_origin_access() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = preflight(&app, "/api/v1/carts", ALLOWED).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(allow_origin(&response), None);
    let response = get_from(&app, "/api/v1/categories", ALLOWED).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(allow_origin(&response), None);
}

#[tokio::test]
async fn the_pages_never_answer_cross_origin_requests() {
    let app = cors_app().await;
    let response = get_from(&app, "/", ALLOWED).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(allow_origin(&response), None);
    let response = preflight(&app, "/cart/items", ALLOWED).await;
    assert_eq!(allow_origin(&response), None);
}

#[test]
fn a_malformed_origin_list_stops_the_shop_at_start_naming_the_setting() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shop"))
        .env("SHOP_CORS_ALLOWED_ORIGINS", "https://app.example/,*")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .expect("the shop binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SHOP_CORS_ALLOWED_ORIGINS"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
