//! The anonymous browser: home, category listings, product pages and search,
//! loading a page's stylesheet and product image as a browser would.

use goose::prelude::*;

use super::common::{self, Body};
use crate::routes;

/// What the browser has seen so far: the links it can follow next.
#[derive(Debug, Clone, Default)]
pub(crate) struct Browser {
    pub(crate) products: Vec<String>,
    pub(crate) categories: Vec<String>,
}

pub(crate) async fn on_start(user: &mut GooseUser) -> TransactionResult {
    common::start_user(user).await?;
    user.set_session_data(Browser::default());
    Ok(())
}

fn state(user: &mut GooseUser) -> &mut Browser {
    if user.get_session_data::<Browser>().is_none() {
        user.set_session_data(Browser::default());
    }
    user.get_session_data_unchecked_mut::<Browser>()
}

/// Remember the product and category links of a page.
fn learn(user: &mut GooseUser, html: &str) {
    let products = common::links(html, "/product/");
    let categories = common::links(html, "/category/");
    let seen = state(user);
    for slug in products {
        if !seen.products.contains(&slug) {
            seen.products.push(slug);
        }
    }
    for slug in categories {
        if !seen.categories.contains(&slug) {
            seen.categories.push(slug);
        }
    }
}

/// `GET /`, then its stylesheet.
pub(crate) async fn home(user: &mut GooseUser) -> TransactionResult {
    let goose = common::send(user, &routes::HOME, "/", Body::Empty, 200, &[]).await?;
    let html = common::page(user, goose, "page-home").await?;
    learn(user, &html);
    stylesheet(user, &html).await
}

/// `GET /category/{slug}?page=1`.
pub(crate) async fn category(user: &mut GooseUser) -> TransactionResult {
    let Some(slug) = common::pick(&state(user).categories) else {
        return home(user).await;
    };
    let path = format!("/category/{slug}?page=1");
    let goose = common::send(user, &routes::CATEGORY, &path, Body::Empty, 200, &[]).await?;
    let html = common::page(user, goose, "page-category").await?;
    learn(user, &html);
    Ok(())
}

/// `GET /product/{slug}`, then its image.
pub(crate) async fn product(user: &mut GooseUser) -> TransactionResult {
    let Some(slug) = common::pick(&state(user).products) else {
        return home(user).await;
    };
    let path = format!("/product/{slug}");
    let goose = common::send(user, &routes::PRODUCT, &path, Body::Empty, 200, &[]).await?;
    let html = common::page(user, goose, "page-product").await?;
    image(user, &slug).await?;
    learn(user, &html);
    Ok(())
}

/// `GET /search?q=<a word of a product name>&page=1`.
pub(crate) async fn search(user: &mut GooseUser) -> TransactionResult {
    let Some(slug) = common::pick(&state(user).products) else {
        return home(user).await;
    };
    let words: Vec<String> = slug.split('-').map(str::to_string).collect();
    let word = common::pick(&words).unwrap_or(slug);
    let path = format!("/search?q={word}&page=1");
    let goose = common::send(user, &routes::SEARCH, &path, Body::Empty, 200, &[]).await?;
    let html = common::page(user, goose, "page-search").await?;
    learn(user, &html);
    Ok(())
}

/// The stylesheet a page links to, when it links to one under `/static/`.
async fn stylesheet(user: &mut GooseUser, html: &str) -> TransactionResult {
    let Some(href) = stylesheet_href(html) else {
        return Ok(());
    };
    let goose = common::send(user, &routes::STYLESHEET, &href, Body::Empty, 200, &[]).await?;
    common::asset(user, goose).await
}

async fn image(user: &mut GooseUser, slug: &str) -> TransactionResult {
    let path = format!("/images/products/{slug}");
    let goose = common::send(user, &routes::PRODUCT_IMAGE, &path, Body::Empty, 200, &[]).await?;
    common::asset(user, goose).await
}

fn stylesheet_href(html: &str) -> Option<String> {
    let at = html.find("href=\"/static/")?;
    let rest = &html[at + "href=\"".len()..];
    let end = rest.find('"')?;
    Some(rest[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_is_found_in_the_head() {
        let html = r#"<head><link rel="stylesheet" href="/static/shop.css?v=1"></head>"#;
        assert_eq!(
            stylesheet_href(html).as_deref(),
            Some("/static/shop.css?v=1")
        );
        assert_eq!(stylesheet_href("<head></head>"), None);
    }
}
