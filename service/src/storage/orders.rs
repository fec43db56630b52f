//! Orders: checkout in one transaction, and reading orders back.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{Contact, IdempotencyKey};

use super::{
    carts::CART_LINES, now, plausible_key, with_pool, CartLine, Database, Result, StorageError,
};

/// A placed order.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
pub struct Order {
    pub id: String,
    #[serde(skip)]
    pub cart_id: String,
    #[serde(skip)]
    pub customer_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub address: String,
    pub total_cents: i64,
    pub currency: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    #[sqlx(skip)]
    pub items: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
pub struct OrderLine {
    pub product_id: i64,
    pub name: String,
    pub unit_price_cents: i64,
    pub quantity: i64,
}

/// An order in a customer's history.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrderSummary {
    pub id: String,
    pub total_cents: i64,
    pub currency: String,
    pub created_at: i64,
    pub item_count: i64,
}

/// The result of a checkout.
#[derive(Debug)]
pub enum PlaceOrder {
    /// A new order.
    Placed(Order),
    /// The idempotency key was seen before with the same cart: the order it
    /// placed then.
    Replayed(Order),
    /// The idempotency key was seen before with another cart.
    KeyReused,
    EmptyCart,
    /// Not enough stock of this product; nothing was changed.
    OutOfStock {
        product: String,
    },
}

/// Why the transaction stopped early; each rolls it back.
enum Stop {
    Empty,
    OutOfStock(String),
    DuplicateKey,
}

const ORDER_COLUMNS: &str = "SELECT id, cart_id, customer_id, name, email, address, total_cents, \
     currency, created_at FROM orders";

impl Database {
    /// Places the order for everything in the cart, in one transaction:
    /// the stock of every product is decremented only where enough is left
    /// (a conditional update, never read-then-write), so concurrent checkouts
    /// can never sell more than the stock. A retried submit with the same
    /// `idempotency_key` returns the first order instead of placing another.
    pub async fn place_order(
        &self,
        cart_id: &str,
        customer_id: Option<i64>,
        contact: &Contact,
        idempotency_key: &IdempotencyKey,
    ) -> Result<PlaceOrder> {
        if let Some(order) = self
            .order_by_idempotency_key(idempotency_key.as_str())
            .await?
        {
            return Ok(replay(order, cart_id));
        }
        let order_id = uuid::Uuid::new_v4().simple().to_string();
        let currency = crate::contract::metrics::CURRENCY;
        let created_at = now();
        let transaction = self.observe("place_order", async {
                with_pool!(self, write, |pool| {
                    let mut tx = pool.begin().await?;
                    // Ordered by product id, so that concurrent orders lock
                    // product rows in the same order and cannot deadlock.
                    let lines: Vec<CartLine> = sqlx::query_as(CART_LINES)
                        .bind(cart_id)
                        .fetch_all(&mut *tx)
                        .await?;
                    if lines.is_empty() {
                        return Ok(Err(Stop::Empty));
                    }
                    let total: i64 = lines.iter().map(|l| l.line_total_cents).sum();
                    let inserted = sqlx::query(
                        "INSERT INTO orders (id, cart_id, customer_id, name, email, address, \
                         total_cents, currency, idempotency_key, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(&order_id)
                    .bind(cart_id)
                    .bind(customer_id)
                    .bind(contact.name())
                    .bind(contact.email())
                    .bind(contact.address())
                    .bind(total)
                    .bind(currency)
                    .bind(idempotency_key.as_str())
                    .bind(created_at)
                    .execute(&mut *tx)
                    .await;
                    match inserted {
                        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                            return Ok(Err(Stop::DuplicateKey));
                        }
                        other => other?,
                    };
                    for line in &lines {
                        let decremented = sqlx::query(
                            "UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1",
                        )
                        .bind(line.quantity)
                        .bind(line.product_id)
                        .execute(&mut *tx)
                        .await?;
                        if decremented.rows_affected() == 0 {
                            return Ok(Err(Stop::OutOfStock(line.name.clone())));
                        }
                        sqlx::query(
                            "INSERT INTO order_items (order_id, product_id, name, unit_price_cents, quantity) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(&order_id)
                        .bind(line.product_id)
                        .bind(&line.name)
                        .bind(line.unit_price_cents)
                        .bind(line.quantity)
                        .execute(&mut *tx)
                        .await?;
                    }
                    sqlx::query("DELETE FROM cart_items WHERE cart_id = $1")
                        .bind(cart_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok::<Result<Vec<CartLine>, Stop>, sqlx::Error>(Ok(lines))
                })
            });
        let outcome = match transaction.await {
            Ok(outcome) => outcome,
            // A concurrent submit with the same key can also surface at commit.
            Err(StorageError::Query(sqlx::Error::Database(db))) if db.is_unique_violation() => {
                Err(Stop::DuplicateKey)
            }
            Err(error) => {
                // The commit may have happened before the error (a timeout,
                // a cut connection): which stock changed is unknown.
                self.products.clear();
                return Err(error);
            }
        };
        if let Ok(lines) = &outcome {
            self.products.invalidate(lines.iter().map(|l| l.product_id));
        }
        match outcome {
            Ok(lines) => Ok(PlaceOrder::Placed(Order {
                id: order_id,
                cart_id: cart_id.to_owned(),
                customer_id,
                name: contact.name().to_owned(),
                email: contact.email().to_owned(),
                address: contact.address().to_owned(),
                total_cents: lines.iter().map(|l| l.line_total_cents).sum(),
                currency: currency.to_owned(),
                created_at,
                items: lines
                    .into_iter()
                    .map(|l| OrderLine {
                        product_id: l.product_id,
                        name: l.name,
                        unit_price_cents: l.unit_price_cents,
                        quantity: l.quantity,
                    })
                    .collect(),
            })),
            // An empty cart may be the work of a concurrent submit with the
            // same key, which placed the order and emptied the cart.
            Err(Stop::Empty) => match self
                .order_by_idempotency_key(idempotency_key.as_str())
                .await?
            {
                Some(order) => Ok(replay(order, cart_id)),
                None => Ok(PlaceOrder::EmptyCart),
            },
            Err(Stop::OutOfStock(product)) => Ok(PlaceOrder::OutOfStock { product }),
            Err(Stop::DuplicateKey) => {
                match self
                    .order_by_idempotency_key(idempotency_key.as_str())
                    .await?
                {
                    Some(order) => Ok(replay(order, cart_id)),
                    None => Ok(PlaceOrder::KeyReused),
                }
            }
        }
    }

    async fn order_by_idempotency_key(&self, key: &str) -> Result<Option<Order>> {
        let sql = format!("{ORDER_COLUMNS} WHERE idempotency_key = $1");
        let order: Option<Order> = self
            .observe("get_order_by_idempotency_key", async {
                with_pool!(self, read, |pool| sqlx::query_as(&sql)
                    .bind(key)
                    .fetch_optional(pool)
                    .await)
            })
            .await?;
        match order {
            Some(order) => self.with_items(order).await.map(Some),
            None => Ok(None),
        }
    }

    pub async fn order(&self, id: &str) -> Result<Option<Order>> {
        if !plausible_key(id) {
            return Ok(None);
        }
        let sql = format!("{ORDER_COLUMNS} WHERE id = $1");
        let order: Option<Order> = self
            .observe("get_order", async {
                with_pool!(self, read, |pool| sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(pool)
                    .await)
            })
            .await?;
        match order {
            Some(order) => self.with_items(order).await.map(Some),
            None => Ok(None),
        }
    }

    async fn with_items(&self, mut order: Order) -> Result<Order> {
        order.items = self
            .observe("list_order_items", async {
                with_pool!(self, read, |pool| sqlx::query_as(
                    "SELECT product_id, name, unit_price_cents, quantity FROM order_items \
                     WHERE order_id = $1 ORDER BY product_id"
                )
                .bind(&order.id)
                .fetch_all(pool)
                .await)
            })
            .await?;
        Ok(order)
    }

    /// A customer's orders, newest first.
    pub async fn orders_of_customer(&self, customer_id: i64) -> Result<Vec<OrderSummary>> {
        const SQL: &str = "SELECT o.id, o.total_cents, o.currency, o.created_at, \
             CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) AS item_count \
             FROM orders o LEFT JOIN order_items i ON i.order_id = o.id \
             WHERE o.customer_id = $1 \
             GROUP BY o.id, o.total_cents, o.currency, o.created_at \
             ORDER BY o.created_at DESC, o.id";
        self.observe("list_customer_orders", async {
            with_pool!(self, read, |pool| sqlx::query_as(SQL)
                .bind(customer_id)
                .fetch_all(pool)
                .await)
        })
        .await
    }

    /// Units left of a product (for tests and operators).
    pub async fn stock_of(&self, product_id: i64) -> Result<Option<i64>> {
        self.observe("get_stock", async {
            with_pool!(self, read, |pool| sqlx::query_scalar(
                "SELECT stock FROM products WHERE id = $1"
            )
            .bind(product_id)
            .fetch_optional(pool)
            .await)
        })
        .await
    }

    /// Number of orders ever placed (for tests and operators).
    pub async fn order_count(&self) -> Result<i64> {
        self.observe("count_orders", async {
            with_pool!(self, read, |pool| sqlx::query_scalar(
                "SELECT COUNT(*) FROM orders"
            )
            .fetch_one(pool)
            .await)
        })
        .await
    }
}

fn replay(order: Order, cart_id: &str) -> PlaceOrder {
    if order.cart_id == cart_id {
        PlaceOrder::Replayed(order)
    } else {
        PlaceOrder::KeyReused
    }
}
