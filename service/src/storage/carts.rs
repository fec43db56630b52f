//! Carts: a cart id (kept in the shopper's session cookie, or held by an API
//! client) and its lines.

use serde::Serialize;
use utoipa::ToSchema;

use super::{now, plausible_key, with_pool, Database, Result};
use crate::domain::{Quantity, MAX_QUANTITY};

/// One product in a cart, priced at today's price.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
pub struct CartLine {
    pub product_id: i64,
    pub slug: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
    /// `unit_price_cents` × `quantity`.
    pub line_total_cents: i64,
    #[serde(skip)]
    pub stock: i64,
}

pub(super) const CART_LINES: &str = "SELECT ci.product_id, p.slug, p.name, ci.quantity, \
     p.price_cents AS unit_price_cents, p.price_cents * ci.quantity AS line_total_cents, p.stock \
     FROM cart_items ci JOIN products p ON p.id = ci.product_id \
     WHERE ci.cart_id = $1 ORDER BY ci.product_id";

impl Database {
    /// Creates an empty cart and returns its id.
    pub async fn create_cart(&self) -> Result<String> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.observe("create_cart", async {
            with_pool!(self, write, |pool| sqlx::query(
                "INSERT INTO carts (id, created_at, touched_at) VALUES ($1, $2, $2)"
            )
            .bind(&id)
            .bind(now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        })
        .await?;
        Ok(id)
    }

    pub async fn cart_exists(&self, cart_id: &str) -> Result<bool> {
        if !plausible_key(cart_id) {
            return Ok(false);
        }
        let found: Option<String> = self
            .observe("get_cart", async {
                with_pool!(self, read, |pool| sqlx::query_scalar(
                    "SELECT id FROM carts WHERE id = $1"
                )
                .bind(cart_id)
                .fetch_optional(pool)
                .await)
            })
            .await?;
        Ok(found.is_some())
    }

    pub async fn cart_lines(&self, cart_id: &str) -> Result<Vec<CartLine>> {
        if !plausible_key(cart_id) {
            return Ok(Vec::new());
        }
        self.observe("list_cart_items", async {
            with_pool!(self, read, |pool| sqlx::query_as(CART_LINES)
                .bind(cart_id)
                .fetch_all(pool)
                .await)
        })
        .await
    }

    /// Units in the cart, for the page header.
    pub async fn cart_item_count(&self, cart_id: &str) -> Result<i64> {
        self.observe("count_cart_items", async {
            with_pool!(self, read, |pool| sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM cart_items WHERE cart_id = $1"
            )
            .bind(cart_id)
            .fetch_one(pool)
            .await)
        })
        .await
    }

    /// Adds `quantity` units (capped at [`MAX_QUANTITY`] in all).
    pub async fn add_to_cart(
        &self,
        cart_id: &str,
        product_id: i64,
        quantity: Quantity,
    ) -> Result<()> {
        let quantity = quantity.get();
        const SQL: &str =
            "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3) \
             ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = \
             CASE WHEN cart_items.quantity + excluded.quantity > $4 THEN $4 \
             ELSE cart_items.quantity + excluded.quantity END";
        self.observe("add_cart_item", async {
            with_pool!(self, write, |pool| sqlx::query(SQL)
                .bind(cart_id)
                .bind(product_id)
                .bind(quantity.min(MAX_QUANTITY))
                .bind(MAX_QUANTITY)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))
        })
        .await
        .map(|_| ())
    }

    /// Sets the quantity of a product; 0 removes it.
    pub async fn set_cart_quantity(
        &self,
        cart_id: &str,
        product_id: i64,
        quantity: Quantity,
    ) -> Result<()> {
        let quantity = quantity.get();
        if quantity <= 0 {
            return self.remove_from_cart(cart_id, product_id).await;
        }
        const SQL: &str =
            "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3) \
             ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity";
        self.observe("set_cart_item", async {
            with_pool!(self, write, |pool| sqlx::query(SQL)
                .bind(cart_id)
                .bind(product_id)
                .bind(quantity.min(MAX_QUANTITY))
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))
        })
        .await
        .map(|_| ())
    }

    pub async fn remove_from_cart(&self, cart_id: &str, product_id: i64) -> Result<()> {
        self.observe("remove_cart_item", async {
            with_pool!(self, write, |pool| sqlx::query(
                "DELETE FROM cart_items WHERE cart_id = $1 AND product_id = $2"
            )
            .bind(cart_id)
            .bind(product_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        })
        .await
        .map(|_| ())
    }

    /// Deletes up to `batch` carts (and their lines) last changed before
    /// `cutoff` (Unix seconds), oldest first; returns how many went. The
    /// bound keeps each statement short, so that a sweep after a long pause
    /// never holds the write lock for long.
    pub async fn delete_idle_carts(&self, cutoff: i64, batch: i64) -> Result<u64> {
        self.observe("delete_idle_carts", async {
            with_pool!(self, write, |pool| sqlx::query(
                "DELETE FROM carts WHERE id IN \
                 (SELECT id FROM carts WHERE touched_at < $1 ORDER BY touched_at LIMIT $2)"
            )
            .bind(cutoff)
            .bind(batch)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        })
        .await
    }
}
