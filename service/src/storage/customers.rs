//! Customer accounts.

use super::{now, with_pool, Database, Result};

/// A registered customer.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Customer {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

/// A customer to register; the email is already validated and lower-cased.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

impl Database {
    /// Registers a customer; `None` when the email is taken.
    pub async fn create_customer(&self, customer: &NewCustomer) -> Result<Option<i64>> {
        let inserted = self
            .observe("create_customer", async {
                with_pool!(self, write, |pool| sqlx::query_scalar(
                    "INSERT INTO customers (email, name, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING RETURNING id"
                )
                .bind(&customer.email)
                .bind(&customer.name)
                .bind(&customer.password_hash)
                .bind(now())
                .fetch_optional(pool)
                .await)
            })
            .await?;
        Ok(inserted)
    }

    pub async fn customer_by_email(&self, email: &str) -> Result<Option<Customer>> {
        self.observe("get_customer", async {
            with_pool!(self, read, |pool| sqlx::query_as(
                "SELECT id, email, name, password_hash FROM customers WHERE email = $1"
            )
            .bind(email)
            .fetch_optional(pool)
            .await)
        })
        .await
    }

    pub async fn customer_by_id(&self, id: i64) -> Result<Option<Customer>> {
        self.observe("get_customer", async {
            with_pool!(self, read, |pool| sqlx::query_as(
                "SELECT id, email, name, password_hash FROM customers WHERE id = $1"
            )
            .bind(id)
            .fetch_optional(pool)
            .await)
        })
        .await
    }
}
