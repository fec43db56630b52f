//! The deterministic catalogue a new database starts with: the same ids,
//! names, prices and stock on every machine and both backends, so that load
//! tests and benchmarks are comparable.

use super::{with_pool, Database, Result};

struct CategorySeed {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    products: [&'static str; 10],
}

const CATEGORIES: [CategorySeed; 6] = [
    CategorySeed {
        slug: "kitchen",
        name: "Kitchen",
        description: "Tools for cooks who keep them for decades.",
        products: [
            "Chef's Knife",
            "Cast Iron Skillet",
            "Pour-Over Kettle",
            "Oak Cutting Board",
            "Espresso Cups",
            "Mixing Bowls",
            "Salt Cellar",
            "Pepper Mill",
            "Linen Tea Towel",
            "Dutch Oven",
        ],
    },
    CategorySeed {
        slug: "outdoor",
        name: "Outdoor",
        description: "Gear for long walks and cold mornings.",
        products: [
            "Trail Backpack",
            "Camp Stove",
            "Wool Beanie",
            "Steel Water Bottle",
            "Hammock",
            "Headlamp",
            "Rain Shell",
            "Trekking Poles",
            "Folding Chair",
            "Field Blanket",
        ],
    },
    CategorySeed {
        slug: "books",
        name: "Books",
        description: "Reading for the on-call week and after.",
        products: [
            "Site Reliability Engineering",
            "The Phoenix Project",
            "Designing Data Systems",
            "Thinking in Systems",
            "Release It!",
            "Accelerate",
            "The Checklist Manifesto",
            "Drift into Failure",
            "Team Topologies",
            "Seeking SRE",
        ],
    },
    CategorySeed {
        slug: "audio",
        name: "Audio",
        description: "Headphones and speakers for focused work.",
        products: [
            "Studio Headphones",
            "Bookshelf Speakers",
            "Desk Microphone",
            "Wireless Earbuds",
            "Turntable",
            "Portable Speaker",
            "Headphone Stand",
            "USB Audio Interface",
            "Noise-Cancelling Headset",
            "Radio Receiver",
        ],
    },
    CategorySeed {
        slug: "stationery",
        name: "Stationery",
        description: "Paper, pens and the joy of writing things down.",
        products: [
            "Dot Grid Notebook",
            "Fountain Pen",
            "Mechanical Pencil",
            "Index Cards",
            "Desk Planner",
            "Brass Ruler",
            "Ink Bottle",
            "Sticky Notes",
            "Leather Folio",
            "Postmortem Template Pad",
        ],
    },
    CategorySeed {
        slug: "home",
        name: "Home",
        description: "Things that make a desk a place to think.",
        products: [
            "Desk Lamp",
            "Wool Throw",
            "Ceramic Planter",
            "Wall Clock",
            "Scented Candle",
            "Cork Board",
            "Bamboo Tray",
            "Reading Chair Cushion",
            "Glass Carafe",
            "Monitor Stand",
        ],
    },
];

/// Total products in the seed catalogue.
pub const PRODUCT_COUNT: usize = 60;

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() && c != '\'' {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// A product as seeded; public so that tests can find known products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedProduct {
    pub id: i64,
    pub category_id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub stock: i64,
}

/// Every seeded product, in id order.
pub fn products() -> Vec<SeedProduct> {
    let mut products = Vec::with_capacity(PRODUCT_COUNT);
    for (c, category) in CATEGORIES.iter().enumerate() {
        for (p, name) in category.products.iter().enumerate() {
            let id = (c * 10 + p + 1) as i64;
            // A multiplicative hash gives varied but reproducible prices, 4.99 to 183.99.
            let price_cents = 499 + ((id * 2_654_435_761) >> 7) % 180 * 100;
            products.push(SeedProduct {
                id,
                category_id: c as i64 + 1,
                slug: slugify(name),
                name: (*name).to_owned(),
                description: format!(
                    "{name}: made to last, chosen by our {} team. {}",
                    category.name.to_lowercase(),
                    category.description
                ),
                price_cents,
                // Plenty for long load tests; tests that need scarcity set it.
                stock: 5_000 + id * 97 % 5_000,
            });
        }
    }
    products
}

impl Database {
    /// Seeds the catalogue when it is empty. Safe to run from several
    /// replicas at once: existing rows are left alone.
    pub async fn seed_if_empty(&self) -> Result<()> {
        let categories: i64 = self
            .observe("count_categories", async {
                with_pool!(self, read, |pool| sqlx::query_scalar(
                    "SELECT COUNT(*) FROM categories"
                )
                .fetch_one(pool)
                .await)
            })
            .await?;
        if categories > 0 {
            return Ok(());
        }
        let products = products();
        self.observe("seed_catalogue", async {
            with_pool!(self, write, |pool| {
                let mut tx = pool.begin().await?;
                for (i, category) in CATEGORIES.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO categories (id, slug, name, description) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(i as i64 + 1)
                    .bind(category.slug)
                    .bind(category.name)
                    .bind(category.description)
                    .execute(&mut *tx)
                    .await?;
                }
                for product in &products {
                    sqlx::query(
                        "INSERT INTO products (id, category_id, slug, name, description, price_cents, stock) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                    )
                    .bind(product.id)
                    .bind(product.category_id)
                    .bind(&product.slug)
                    .bind(&product.name)
                    .bind(&product.description)
                    .bind(product.price_cents)
                    .bind(product.stock)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await
            })
        })
        .await
    }

    /// Sets a product's stock (tests and operators).
    pub async fn set_stock(&self, product_id: i64, stock: i64) -> Result<()> {
        self.observe("set_stock", async {
            with_pool!(self, write, |pool| sqlx::query(
                "UPDATE products SET stock = $1 WHERE id = $2"
            )
            .bind(stock)
            .bind(product_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        })
        .await?;
        self.products.invalidate([product_id]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_unique_slugs_and_positive_prices() {
        let products = products();
        assert_eq!(products.len(), PRODUCT_COUNT);
        let mut slugs: Vec<_> = products.iter().map(|p| p.slug.as_str()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), PRODUCT_COUNT);
        assert!(products.iter().all(|p| p.price_cents > 0 && p.stock > 0));
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_hyphens() {
        assert_eq!(slugify("Chef's Knife"), "chefs-knife");
        assert_eq!(slugify("Release It!"), "release-it");
        assert_eq!(slugify("Pour-Over Kettle"), "pour-over-kettle");
    }
}
