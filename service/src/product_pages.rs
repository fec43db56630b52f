//! Rendered product pages for shoppers who are not logged in and have an
//! empty cart (most of a shop's browsing), so that a product view costs
//! no template rendering either.
//!
//! Such a page differs between shoppers only in its CSRF token: it is
//! rendered once with a marker in the token's place, kept as the text before
//! and after it, and each view puts its own token in between ("donut"
//! caching). A page is reused only for a product equal, field by field, to
//! the one it was rendered from, so it is exactly as fresh as the product
//! itself: a stock change reaches the page as soon as it reaches the product
//! cache. The categories it shows are loaded once at start-up.

use std::{collections::HashMap, sync::RwLock};

use crate::storage::Product;

/// Stands for the CSRF token while a page is rendered for the cache; never
/// in a product's text, and unchanged by HTML escaping.
pub(crate) const TOKEN_MARKER: &str = "csrf-token-marker-7f3c9a2e5d1b8640";

#[derive(Default)]
pub struct ProductPages {
    pages: RwLock<HashMap<i64, Rendered>>,
}

struct Rendered {
    product: Product,
    before_token: String,
    after_token: String,
}

impl ProductPages {
    /// The page of `product` with `token`, if one was rendered from this very
    /// product.
    pub(crate) fn page(&self, product: &Product, token: &str) -> Option<String> {
        let pages = self.pages.read().unwrap_or_else(|e| e.into_inner());
        let rendered = pages.get(&product.id).filter(|r| r.product == *product)?;
        let mut html = String::with_capacity(
            rendered.before_token.len() + token.len() + rendered.after_token.len(),
        );
        html.push_str(&rendered.before_token);
        html.push_str(token);
        html.push_str(&rendered.after_token);
        Some(html)
    }

    /// Keeps `html`, rendered from `product` with [`TOKEN_MARKER`] as the
    /// token, unless the marker is not there exactly once.
    pub(crate) fn keep(&self, product: &Product, html: &str) {
        let mut parts = html.split(TOKEN_MARKER);
        let (Some(before), Some(after), None) = (parts.next(), parts.next(), parts.next()) else {
            tracing::warn!(
                product = product.id,
                "product page not cached: its CSRF token is not there exactly once"
            );
            return;
        };
        self.pages
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                product.id,
                Rendered {
                    product: product.clone(),
                    before_token: before.to_owned(),
                    after_token: after.to_owned(),
                },
            );
    }
}
