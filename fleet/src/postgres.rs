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

/// Creates an empty database named `{prefix}_{random}` on the server at
/// `server` (any database URL of it) and returns the new database's URL.
pub async fn create_database(server: &str, prefix: &str) -> Result<String, sqlx::Error> {
    let mut connection = PgConnection::connect(server).await?;
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    connection
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await?;
    let base = server.rsplit_once('/').map_or(server, |(base, _)| base);
    Ok(format!("{base}/{name}"))
}

/// Drops the database at `url`, ending its sessions first, from the server's
/// `postgres` database.
pub async fn drop_database(url: &str) -> Result<(), sqlx::Error> {
    let Some((base, name)) = url.rsplit_once('/') else {
        return Ok(());
    };
    let name = name.split('?').next().unwrap_or(name);
    let mut connection = PgConnection::connect(&format!("{base}/postgres")).await?;
    connection
        .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
        .await?;
    Ok(())
}

/// An empty database for one test, dropped (its sessions ended first) when
/// this value is dropped, so that a test run leaves no database behind,
/// even when the test fails.
pub struct TestDatabase {
    url: String,
}

impl TestDatabase {
    /// A fresh database named `{prefix}_{random}` on [`server_url`]; panics
    /// with set-up advice, as [`fresh_database`] does.
    pub async fn create(prefix: &str) -> TestDatabase {
        TestDatabase {
            url: fresh_database(prefix).await,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let url = std::mem::take(&mut self.url);
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // the statement runs on a thread and a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(drop_database(&url))
                .map_err(|e| format!("{url}: {e}"))
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("warning: could not drop the test database {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(name: &str) -> bool {
        let mut connection = PgConnection::connect(&server_url()).await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut connection)
            .await
            .unwrap()
            == 1
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_test_database_is_gone_once_dropped_even_with_a_session_open() {
        let database = TestDatabase::create("fleet_unit").await;
        let name = database.url().rsplit('/').next().unwrap().to_owned();
        let session = PgConnection::connect(database.url()).await.unwrap();
        assert!(exists(&name).await, "{name} was not created");
        drop(database);
        assert!(!exists(&name).await, "{name} is still there");
        drop(session);
    }
}
