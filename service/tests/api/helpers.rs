//! `spawn_app` and a client with one method per endpoint.

use std::{
    sync::{Arc, LazyLock},
    time::Duration,
};

use fleet::postgres::TestDatabase;
use reqwest::{redirect, Client, Response, StatusCode};
use serde_json::{json, Value};
use shop::{
    configuration::{LogFormat, Settings},
    login_throttle::{Clock, SystemClock},
    startup::{Application, Stopper},
    storage::Database,
};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` test once per backend, as
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )+};
}

// Logs are shown only when TEST_LOG is set, so that failures stay readable.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        let subscriber =
            shop::telemetry::get_subscriber("info", LogFormat::Pretty, std::io::stdout);
        let _ = shop::telemetry::init_subscriber(subscriber);
    }
});

/// An empty PostgreSQL database, dropped when the value is.
pub(crate) async fn fresh_postgres_database() -> TestDatabase {
    TestDatabase::create("shop_test").await
}

pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) admin_address: String,
    pub(crate) client: Client,
    pub(crate) db: Database,
    pub(crate) stopper: Stopper,
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

/// A shop on a fresh database, served on free ports until the test ends.
pub(crate) async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub(crate) async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn_app_with_clock(backend, configure, Arc::new(SystemClock)).await
}

/// A shop whose login throttling reads `clock`.
pub(crate) async fn spawn_app_with_clock(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
    clock: Arc<dyn Clock>,
) -> TestApp {
    LazyLock::force(&TRACING);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(fresh_postgres_database().await),
    };
    let database_url = match &database {
        None => format!("sqlite://{}/shop.db", dir.path().display()),
        Some(database) => database.url().to_owned(),
    };
    let mut settings = Settings::ephemeral(&database_url);
    configure(&mut settings);
    let app = Application::build_with_clock(settings, clock)
        .await
        .expect("the shop builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let admin_address = format!("http://127.0.0.1:{}", app.admin_port());
    let db = app.database();
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        admin_address,
        client: client(),
        db,
        stopper,
        _dir: dir,
        _database: database,
    }
}

/// A browser-like client: keeps cookies, does not follow redirects (so tests
/// can see them), and gives up on a hung request.
pub(crate) fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a reqwest client")
}

/// The value of the first hidden input named `name` in a page.
pub(crate) fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden input {name} in the page"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .expect("a closing quote")
        .to_owned()
}

/// A product of the seed catalogue: id 1, "Chef's Knife".
pub(crate) const KNIFE_ID: i64 = 1;
pub(crate) const KNIFE_SLUG: &str = "chefs-knife";

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("GET failed")
    }

    pub(crate) async fn get_html(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap()
    }

    pub(crate) async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST failed")
    }

    /// The CSRF token of this client's session, read from a page's form.
    pub(crate) async fn csrf_token(&self) -> String {
        hidden_input(
            &self.get_html(&format!("/product/{KNIFE_SLUG}")).await,
            "csrf_token",
        )
    }

    /// Adds a product through the product page's form.
    pub(crate) async fn add_to_cart(&self, product_id: i64, quantity: i64) -> Response {
        let token = self.csrf_token().await;
        self.post_form(
            "/cart/items",
            &[
                ("csrf_token", &token),
                ("product_id", &product_id.to_string()),
                ("quantity", &quantity.to_string()),
            ],
        )
        .await
    }

    /// Opens the checkout page and submits it with these details.
    pub(crate) async fn checkout(&self, name: &str, email: &str, address: &str) -> Response {
        let page = self.get_html("/checkout").await;
        let token = hidden_input(&page, "csrf_token");
        let key = hidden_input(&page, "idempotency_key");
        self.post_form(
            "/checkout",
            &[
                ("csrf_token", &token),
                ("idempotency_key", &key),
                ("name", name),
                ("email", email),
                ("address", address),
            ],
        )
        .await
    }

    pub(crate) async fn api_create_cart(&self) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/carts"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let cart: Value = response.json().await.unwrap();
        cart["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn api_add_item(
        &self,
        cart: &str,
        product_id: i64,
        quantity: i64,
    ) -> Response {
        self.client
            .post(self.url(&format!("/api/v1/carts/{cart}/items")))
            .json(&json!({ "product_id": product_id, "quantity": quantity }))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn api_place_order(
        &self,
        cart: &str,
        idempotency_key: Option<&str>,
    ) -> Response {
        let mut request = self.client.post(self.url("/api/v1/orders")).json(&json!({
            "cart_id": cart,
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "address": "12 Analytical Row, London",
        }));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.unwrap()
    }

    pub(crate) fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin_address)
    }

    pub(crate) async fn metrics(&self) -> String {
        self.client
            .get(self.admin_url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub(crate) async fn add_fault(&self, fault: Value) -> Response {
        self.client
            .post(self.admin_url("/admin/faults"))
            .bearer_auth("test-token")
            .json(&fault)
            .send()
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stopper.stop();
    }
}
