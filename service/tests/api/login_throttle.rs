//! Login throttling: ten failed logins for one account or from one client
//! within 15 minutes get 429 with Retry-After, whatever the rate limit says.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use reqwest::{header::RETRY_AFTER, StatusCode};
use shop::login_throttle::{Clock, WINDOW};

use crate::helpers::{hidden_input, spawn_app_with_clock, Backend, TestApp};

const PASSWORD: &str = "apollo-11-guidance";

/// A clock the test moves forward.
struct TestClock {
    ahead: Mutex<Duration>,
    start: Instant,
}

impl TestClock {
    fn new() -> Arc<Self> {
        Arc::new(TestClock {
            ahead: Mutex::default(),
            start: Instant::now(),
        })
    }

    fn advance(&self, by: Duration) {
        *self.ahead.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> Instant {
        self.start + *self.ahead.lock().unwrap()
    }
}

async fn app_with(clock: &Arc<TestClock>) -> TestApp {
    let clock: Arc<dyn Clock> = clock.clone();
    spawn_app_with_clock(Backend::Sqlite, |_| {}, clock).await
}

async fn register(app: &TestApp, email: &str) {
    let token = hidden_input(&app.get_html("/account/register").await, "csrf_token");
    let response = app
        .post_form(
            "/account/register",
            &[
                ("csrf_token", &token),
                ("name", "Margaret"),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let token = app.csrf_token().await;
    app.post_form(
        "/account/login",
        &[
            ("csrf_token", &token),
            ("email", email),
            ("password", password),
        ],
    )
    .await
}

async fn throttled_count(app: &TestApp, reason: &str) -> String {
    let metrics = app.metrics().await;
    let series = format!("shop_logins_throttled_total{{reason=\"{reason}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series} in /metrics"))
        .to_owned()
}

#[tokio::test]
async fn ten_failed_logins_lock_the_account_until_the_window_passes() {
    let clock = TestClock::new();
    let app = app_with(&clock).await;
    register(&app, "margaret@example.com").await;
    for _ in 0..10 {
        let response = log_in(&app, "margaret@example.com", "wrong-password-1").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    // Now even the right password is refused, and the answer says for how long.
    let refused = log_in(&app, "Margaret@Example.com", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=WINDOW.as_secs()).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Too many failed logins"));
    assert_eq!(throttled_count(&app, "account").await, "1");

    clock.advance(WINDOW);
    let response = log_in(&app, "margaret@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/account/orders");
}

#[tokio::test]
async fn ten_failures_from_one_client_throttle_it_for_every_account() {
    let clock = TestClock::new();
    let app = app_with(&clock).await;
    for n in 0..10 {
        let response = log_in(&app, &format!("guess{n}@example.com"), "password-123").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = log_in(&app, "someone-else@example.com", "password-123").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(RETRY_AFTER));
    assert_eq!(throttled_count(&app, "client").await, "1");
    assert_eq!(throttled_count(&app, "account").await, "0");
}

#[tokio::test]
async fn failures_older_than_fifteen_minutes_no_longer_count() {
    let clock = TestClock::new();
    let app = app_with(&clock).await;
    register(&app, "ada@example.com").await;
    for _ in 0..9 {
        let response = log_in(&app, "ada@example.com", "wrong-password-1").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    clock.advance(WINDOW);
    for _ in 0..9 {
        let response = log_in(&app, "ada@example.com", "wrong-password-1").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = log_in(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}
