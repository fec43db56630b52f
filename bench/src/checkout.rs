//! What the checkout benchmark needs from the database: carts prepared
//! before a run (one item each, spread over the catalogue), stock enough for
//! every run, and afterwards an audit that no unit was sold twice.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sqlx::{postgres::PgPool, sqlite::SqlitePool};

/// Stock every product gets before the first checkout run: more than any
/// run can sell, so that throughput is not cut short by "out of stock".
pub const STOCK: i64 = 100_000_000;

/// Cart ids of the bench: `bench-<run>-<n>`.
pub const CART_PREFIX: &str = "bench-";

/// A connection pool to the shop's database, either backend.
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Db::Postgres($pool) => $body,
            Db::Sqlite($pool) => $body,
        }
    };
}

/// The units sold and the stock of each product, by product id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger(Vec<(i64, i64, i64)>);

/// The audit after every checkout run of one backend.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Audit {
    /// Orders of bench carts in the database.
    pub orders: i64,
    /// Units in those orders.
    pub units_sold: i64,
    /// How far stock went down over all products.
    pub stock_taken: i64,
    /// Products whose stock went below zero or down by other than their
    /// units sold; empty means no oversell.
    pub oversold_products: Vec<i64>,
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        Ok(if url.starts_with("sqlite:") {
            Db::Sqlite(
                SqlitePool::connect(url)
                    .await
                    .context("opening the SQLite database")?,
            )
        } else {
            Db::Postgres(
                PgPool::connect(url)
                    .await
                    .context("connecting to PostgreSQL")?,
            )
        })
    }

    /// Gives every product [`STOCK`] units and returns the ledger to audit
    /// against later.
    pub async fn restock(&self) -> anyhow::Result<Ledger> {
        with_db!(self, |pool| sqlx::query("UPDATE products SET stock = $1")
            .bind(STOCK)
            .execute(pool)
            .await
            .map(|_| ()))
        .context("restocking the catalogue")?;
        self.ledger().await
    }

    /// `count` carts `<prefix>0`… each holding one unit of a product, the
    /// products taken in turn.
    pub async fn prepare_carts(&self, prefix: &str, count: u64) -> anyhow::Result<()> {
        const NUMBERS: &str =
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2) ";
        let carts = format!(
            "{NUMBERS} INSERT INTO carts (id, created_at) \
             SELECT CAST($1 AS TEXT) || CAST(i AS TEXT), 0 FROM n"
        );
        let items = format!(
            "{NUMBERS} INSERT INTO cart_items (cart_id, product_id, quantity) \
             SELECT CAST($1 AS TEXT) || CAST(i AS TEXT), 1 + i % $3, 1 FROM n"
        );
        let products = self.product_count().await?;
        let count = i64::try_from(count).context("too many carts")?;
        with_db!(self, |pool| async {
            let mut tx = pool.begin().await?;
            sqlx::query(&carts)
                .bind(prefix)
                .bind(count)
                .execute(&mut *tx)
                .await
                .map(|_| ())?;
            sqlx::query(&items)
                .bind(prefix)
                .bind(count)
                .bind(products)
                .execute(&mut *tx)
                .await
                .map(|_| ())?;
            tx.commit().await
        }
        .await)
        .with_context(|| format!("preparing {count} carts {prefix}…"))
    }

    /// Products, checked to have the ids 1 to n that the carts assume.
    async fn product_count(&self) -> anyhow::Result<i64> {
        let (count, lowest, highest): (i64, i64, i64) = with_db!(self, |pool| sqlx::query_as(
            "SELECT COUNT(*), MIN(id), MAX(id) FROM products"
        )
        .fetch_one(pool)
        .await)
        .context("counting products")?;
        if count == 0 || lowest != 1 || highest != count {
            bail!("expected products with ids 1 to n, found {count} from {lowest} to {highest}");
        }
        Ok(count)
    }

    async fn ledger(&self) -> anyhow::Result<Ledger> {
        const SQL: &str = "SELECT p.id, p.stock, \
             CAST(COALESCE(SUM(oi.quantity), 0) AS BIGINT) FROM products p \
             LEFT JOIN order_items oi ON oi.product_id = p.id GROUP BY p.id, p.stock ORDER BY p.id";
        let rows = with_db!(self, |pool| sqlx::query_as(SQL).fetch_all(pool).await)
            .context("reading stock and units sold")?;
        Ok(Ledger(rows))
    }

    /// Compares stock and sales now with `before`.
    pub async fn audit(&self, before: &Ledger) -> anyhow::Result<Audit> {
        let orders: i64 = with_db!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders WHERE cart_id LIKE $1"
        )
        .bind(format!("{CART_PREFIX}%"))
        .fetch_one(pool)
        .await)
        .context("counting the bench's orders")?;
        Ok(audit(orders, before, &self.ledger().await?))
    }

    pub async fn close(self) {
        with_db!(self, |pool| pool.close().await);
    }
}

fn audit(orders: i64, before: &Ledger, after: &Ledger) -> Audit {
    let mut audit = Audit {
        orders,
        units_sold: 0,
        stock_taken: 0,
        oversold_products: Vec::new(),
    };
    for (&(id, stock_before, sold_before), &(_, stock_after, sold_after)) in
        before.0.iter().zip(&after.0)
    {
        let (sold, taken) = (sold_after - sold_before, stock_before - stock_after);
        audit.units_sold += sold;
        audit.stock_taken += taken;
        if stock_after < 0 || sold != taken {
            audit.oversold_products.push(id);
        }
    }
    audit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_that_fell_further_than_the_sales_is_an_oversell() {
        let before = Ledger(vec![(1, 10, 0), (2, 10, 0)]);
        let fine = audit(3, &before, &Ledger(vec![(1, 7, 3), (2, 10, 0)]));
        assert!(fine.oversold_products.is_empty());
        assert_eq!((fine.units_sold, fine.stock_taken), (3, 3));
        let oversold = audit(3, &before, &Ledger(vec![(1, 7, 3), (2, 8, 1)]));
        assert_eq!(oversold.oversold_products, vec![2]);
        let negative = audit(1, &before, &Ledger(vec![(1, -1, 11), (2, 10, 0)]));
        assert_eq!(negative.oversold_products, vec![1]);
    }
}
