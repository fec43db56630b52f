use std::num::NonZeroU32;

use reqwest::StatusCode;
use shop::configuration::RateLimit;

use crate::helpers::{client, spawn_app, spawn_app_with, Backend, KNIFE_ID};

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in ["/", "/no-such-page", "/api/v1/categories"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.get("/").await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("shop_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    app.get("/").await;
    let forged = app
        .post_form(
            "/cart/items",
            &[
                ("csrf_token", "forged"),
                ("product_id", &KNIFE_ID.to_string()),
                ("quantity", "1"),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // A cross-site form post arrives without the session cookie at all.
    let stranger = client();
    let cookieless = stranger
        .post(app.url("/cart/items"))
        .form(&[("csrf_token", "x"), ("product_id", "1"), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(cookieless.status(), StatusCode::FORBIDDEN);
    assert!(cookieless
        .text()
        .await
        .unwrap()
        .contains("session has expired"));
    assert!(app.get_html("/cart").await.contains("Your cart is empty"));
}

#[tokio::test]
async fn a_client_over_the_rate_limit_gets_429_and_others_do_not_care() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.rate_limit = RateLimit::PerSecond(NonZeroU32::new(1).unwrap());
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(app.get("/static/shop.css").await.status());
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(app
        .metrics()
        .await
        .contains(r#"http_response_status_code="429""#));
}
