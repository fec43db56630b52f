//! Categories and products: read-only for shoppers.

use serde::Serialize;
use utoipa::ToSchema;

use std::future::Future;

use super::{
    plausible_key,
    product_cache::{Key, Lookup},
    with_pool, Database, Result,
};
use crate::contract::metrics::cache_result;

/// A product category with the number of products in it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub product_count: i64,
}

/// A product as shoppers and API clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
pub struct Product {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The category's slug.
    pub category: String,
    #[serde(skip)]
    pub category_name: String,
    /// Price in cents of `currency`.
    pub price_cents: i64,
    #[sqlx(skip)]
    #[schema(example = "EUR")]
    pub currency: &'static str,
    /// Units in stock; never negative.
    pub stock: i64,
}

/// One page of results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    /// Matching items over all pages.
    pub total: i64,
    /// Pages in all; at least 1.
    pub page_count: u32,
}

fn page_count(total: i64, per_page: u32) -> u32 {
    let per_page = i64::from(per_page.max(1));
    ((total + per_page - 1) / per_page).max(1) as u32
}

/// Which products to list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub category: Option<String>,
    /// Case-insensitive text searched in names and descriptions.
    pub text: Option<String>,
}

/// The columns of [`Product`] and the tables they come from, as literals so
/// that each statement below is one constant.
macro_rules! product_columns {
    () => {
        "p.id, p.slug, p.name, p.description, c.slug AS category, c.name AS category_name, \
         p.price_cents, p.stock"
    };
}
macro_rules! from_products {
    () => {
        "FROM products p JOIN categories c ON c.id = p.category_id"
    };
}

const PRODUCT_COLUMNS_AND_TOTAL: &str = concat!(
    "SELECT ",
    product_columns!(),
    ", COUNT(*) OVER () AS total ",
    from_products!()
);

/// A product of a listing, with the number of matches over all pages.
#[derive(sqlx::FromRow)]
struct Counted {
    #[sqlx(flatten)]
    product: Product,
    total: i64,
}

// `$1 IS NULL OR ...` keeps one statement for every filter combination.
const FILTER: &str = "WHERE ($1 IS NULL OR c.slug = $1) \
     AND ($2 IS NULL OR LOWER(p.name) LIKE $2 ESCAPE '\\' OR LOWER(p.description) LIKE $2 ESCAPE '\\')";

fn with_currency(mut products: Vec<Product>) -> Vec<Product> {
    for product in &mut products {
        product.currency = crate::contract::metrics::CURRENCY;
    }
    products
}

/// `%text%` for LIKE, with LIKE's wildcards in the text taken literally and
/// control characters (which no product name has) dropped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars().filter(|c| !c.is_control()) {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Database {
    pub async fn categories(&self) -> Result<Vec<Category>> {
        const SQL: &str =
            "SELECT c.id, c.slug, c.name, c.description, COUNT(p.id) AS product_count \
             FROM categories c LEFT JOIN products p ON p.category_id = c.id \
             GROUP BY c.id, c.slug, c.name, c.description ORDER BY c.name";
        self.observe("list_categories", async {
            with_pool!(self, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)
        })
        .await
    }

    pub async fn category(&self, slug: &str) -> Result<Option<Category>> {
        const SQL: &str =
            "SELECT c.id, c.slug, c.name, c.description, COUNT(p.id) AS product_count \
             FROM categories c LEFT JOIN products p ON p.category_id = c.id WHERE c.slug = $1 \
             GROUP BY c.id, c.slug, c.name, c.description";
        self.observe("get_category", async {
            with_pool!(self, read, |pool| sqlx::query_as(SQL)
                .bind(slug)
                .fetch_optional(pool)
                .await)
        })
        .await
    }

    /// Products matching `filter`, by name, `per_page` at a time.
    pub async fn products(
        &self,
        filter: &ProductFilter,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Product>> {
        let page = page.max(1);
        let offset = i64::from(page - 1) * i64::from(per_page);
        let text = filter.text.as_deref().map(like_pattern);
        // The page and the number of all matches in one round trip: the
        // window counts the rows before LIMIT cuts them.
        let list = format!(
            "{PRODUCT_COLUMNS_AND_TOTAL} {FILTER} ORDER BY p.name, p.id LIMIT $3 OFFSET $4"
        );
        let rows: Vec<Counted> = self
            .observe("list_products", async {
                with_pool!(self, read, |pool| sqlx::query_as(&list)
                    .bind(filter.category.as_deref())
                    .bind(text.as_deref())
                    .bind(i64::from(per_page))
                    .bind(offset)
                    .fetch_all(pool)
                    .await)
            })
            .await?;
        let total = match rows.first() {
            Some(row) => row.total,
            // Past the last page there is no row to carry the count.
            None if page > 1 => {
                let count = format!(concat!("SELECT COUNT(*) ", from_products!(), " {}"), FILTER);
                self.observe("count_products", async {
                    with_pool!(self, read, |pool| sqlx::query_scalar(&count)
                        .bind(filter.category.as_deref())
                        .bind(text.as_deref())
                        .fetch_one(pool)
                        .await)
                })
                .await?
            }
            None => 0,
        };
        Ok(Page {
            items: with_currency(rows.into_iter().map(|row| row.product).collect()),
            page,
            per_page,
            total,
            page_count: page_count(total, per_page),
        })
    }

    /// A few products for the home page.
    pub async fn featured_products(&self, limit: u32) -> Result<Vec<Product>> {
        const SQL: &str = concat!(
            "SELECT ",
            product_columns!(),
            " ",
            from_products!(),
            " ORDER BY p.price_cents DESC, p.id LIMIT $1"
        );
        self.observe("list_featured_products", async {
            with_pool!(self, read, |pool| sqlx::query_as(SQL)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await)
        })
        .await
        .map(with_currency)
    }

    pub async fn product_by_slug(&self, slug: &str) -> Result<Option<Product>> {
        if !plausible_key(slug) {
            return Ok(None);
        }
        const SQL: &str = concat!(
            "SELECT ",
            product_columns!(),
            " ",
            from_products!(),
            " WHERE p.slug = $1"
        );
        self.product(Key::Slug(slug), async {
            with_pool!(self, read, |pool| sqlx::query_as(SQL)
                .bind(slug)
                .fetch_optional(pool)
                .await)
        })
        .await
    }

    pub async fn product_by_id(&self, id: i64) -> Result<Option<Product>> {
        const SQL: &str = concat!(
            "SELECT ",
            product_columns!(),
            " ",
            from_products!(),
            " WHERE p.id = $1"
        );
        self.product(Key::Id(id), async {
            with_pool!(self, read, |pool| sqlx::query_as(SQL)
                .bind(id)
                .fetch_optional(pool)
                .await)
        })
        .await
    }

    /// The product from the product cache or, failing that, from `read`,
    /// which then fills the cache.
    ///
    /// An injected database failure bypasses the cache: it stands for an
    /// outage, which would cut the cache's invalidation channel too. A
    /// latency fault leaves the cache serving, as a slow database would.
    async fn product(
        &self,
        key: Key<'_>,
        read: impl Future<Output = Result<Option<Product>, sqlx::Error>>,
    ) -> Result<Option<Product>> {
        let lookup = if self.faults.database_failing() {
            Lookup::Untrusted
        } else {
            self.products.get(key)
        };
        self.metrics.product_cache_lookup(match lookup {
            Lookup::Hit(_) => cache_result::HIT,
            Lookup::Miss => cache_result::MISS,
            Lookup::Untrusted => cache_result::BYPASS,
        });
        if let Lookup::Hit(product) = lookup {
            return Ok(Some(product));
        }
        // Taken before the query, so that a change meanwhile stops the fill.
        let ticket = self.products.ticket();
        let Some(mut product) = self.observe("get_product", read).await? else {
            return Ok(None);
        };
        product.currency = crate::contract::metrics::CURRENCY;
        self.products.fill(ticket, &product);
        Ok(Some(product))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_search_text_are_literal() {
        assert_eq!(like_pattern("50%_Off"), "%50\\%\\_off%");
        assert_eq!(like_pattern("a\0b"), "%ab%");
    }

    #[test]
    fn page_count_rounds_up_and_is_never_zero() {
        assert_eq!(page_count(0, 12), 1);
        assert_eq!(page_count(12, 12), 1);
        assert_eq!(page_count(13, 12), 2);
    }
}
