//! A fresh PostgreSQL database per test, on the server the test command
//! provides (`TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).

use sqlx::{Connection, Executor, PgConnection};

/// The PostgreSQL server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates an empty database named `{prefix}_{random}` and returns its URL.
/// Panics with set-up advice when no server answers: a test cannot go on.
pub async fn fresh_database(prefix: &str) -> String {
    let server = server_url();
    let mut connection = PgConnection::connect(&server).await.unwrap_or_else(|e| {
        panic!("cannot reach PostgreSQL at {server} ({e}); set TEST_DATABASE_URL or run scripts/test.sh")
    });
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    connection
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("creating a test database");
    let (base, _) = server
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL has a database name");
    format!("{base}/{name}")
}
