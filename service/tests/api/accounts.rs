use reqwest::StatusCode;

use crate::helpers::{client, hidden_input, spawn_app, Backend, KNIFE_ID};

crate::on_both_backends!(
    a_customer_registers_orders_and_sees_the_order_in_their_history,
    a_wrong_password_is_refused_without_saying_which_part_was_wrong,
    an_email_can_register_only_once,
);

async fn register(app: &crate::helpers::TestApp, email: &str) -> reqwest::Response {
    let token = hidden_input(&app.get_html("/account/register").await, "csrf_token");
    app.post_form(
        "/account/register",
        &[
            ("csrf_token", &token),
            ("name", "Margaret"),
            ("email", email),
            ("password", "apollo-11-guidance"),
        ],
    )
    .await
}

async fn a_customer_registers_orders_and_sees_the_order_in_their_history(backend: Backend) {
    let mut app = spawn_app(backend).await;
    assert_eq!(
        register(&app, "margaret@example.com").await.status(),
        StatusCode::SEE_OTHER
    );
    app.add_to_cart(KNIFE_ID, 1).await;
    let checkout = app.get_html("/checkout").await;
    assert!(
        checkout.contains(r#"value="margaret@example.com""#),
        "checkout is not prefilled"
    );
    let placed = app
        .checkout("Margaret", "margaret@example.com", "MIT, Cambridge MA")
        .await;
    let order = placed.headers()["location"].to_str().unwrap().to_owned();
    let order_id = order
        .trim_start_matches("/orders/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    let history = app.get_html("/account/orders").await;
    assert!(
        history.contains(&order_id),
        "the order is not in the history"
    );

    // Log out, then log in again from a new browser: the history is still there.
    let token = hidden_input(&history, "csrf_token");
    assert_eq!(
        app.post_form("/account/logout", &[("csrf_token", &token)])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/account/orders").await.status(),
        StatusCode::SEE_OTHER
    );
    app.client = client();
    let token = hidden_input(&app.get_html("/account/login").await, "csrf_token");
    let login = app
        .post_form(
            "/account/login",
            &[
                ("csrf_token", &token),
                ("email", "Margaret@Example.com"),
                ("password", "apollo-11-guidance"),
            ],
        )
        .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert!(app.get_html("/account/orders").await.contains(&order_id));
}

async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "kat@example.com").await;
    for (email, password) in [
        ("kat@example.com", "wrong-password"),
        ("nobody@example.com", "apollo-11-guidance"),
    ] {
        let token = hidden_input(&app.get_html("/account/login").await, "csrf_token");
        let response = app
            .post_form(
                "/account/login",
                &[
                    ("csrf_token", &token),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("The email or the password is wrong."));
    }
}

async fn an_email_can_register_only_once(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        register(&app, "dup@example.com").await.status(),
        StatusCode::SEE_OTHER
    );
    let again = register(&app, "DUP@example.com").await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("already exists"));
}
