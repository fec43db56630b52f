use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, Backend, KNIFE_SLUG};

crate::on_both_backends!(
    the_home_page_shows_categories_and_featured_products,
    a_category_lists_its_products_twelve_to_a_page,
    search_finds_products_by_name_and_description,
    a_product_page_offers_add_to_cart,
    a_product_page_breadcrumb_names_its_category,
    an_unknown_product_or_category_is_a_friendly_404,
    the_api_lists_filters_and_paginates_products,
);

async fn the_home_page_shows_categories_and_featured_products(backend: Backend) {
    let app = spawn_app(backend).await;
    let html = app.get_html("/").await;
    assert!(html.contains(r#"id="page-home""#));
    for category in ["Kitchen", "Outdoor", "Books", "Audio", "Stationery", "Home"] {
        assert!(
            html.contains(category),
            "{category} missing from the home page"
        );
    }
    assert_eq!(html.matches(r#"class="card""#).count(), 8);
}

async fn a_category_lists_its_products_twelve_to_a_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let html = app.get_html("/category/kitchen").await;
    assert!(html.contains(r#"id="page-category""#));
    assert_eq!(html.matches(r#"class="card""#).count(), 10);
    assert!(html.contains("Cast Iron Skillet"));
    assert!(
        !html.contains("Trail Backpack"),
        "another category's product is listed"
    );

    let products: Value = app
        .get("/api/v1/products?per_page=12")
        .await
        .json()
        .await
        .unwrap();
    assert!(products["total"].as_i64().unwrap() >= 50);
    let page_two = app.get_html("/search?q=e&page=2").await;
    assert!(page_two.contains("Page 2 of"), "pagination is missing");
}

async fn search_finds_products_by_name_and_description(backend: Backend) {
    let app = spawn_app(backend).await;
    let html = app.get_html("/search?q=KNIFE").await;
    assert!(
        html.contains("Chef&#x27;s Knife") || html.contains("Chef's Knife"),
        "{html}"
    );
    let by_description = app.get_html("/search?q=on-call").await;
    assert!(
        by_description.contains("10 products found"),
        "descriptions are not searched"
    );
    let nothing = app.get_html("/search?q=zzzz").await;
    assert!(nothing.contains("Nothing matched"));
    // LIKE wildcards in the text are literal, not "match anything".
    let percent = app.get_html("/search?q=%25").await;
    assert!(percent.contains("0 products found"), "% matched everything");
}

async fn a_product_page_offers_add_to_cart(backend: Backend) {
    let app = spawn_app(backend).await;
    let html = app.get_html(&format!("/product/{KNIFE_SLUG}")).await;
    assert!(html.contains(r#"id="page-product""#));
    assert!(html.contains(r#"action="/cart/items""#));
    assert!(html.contains("€"), "no price shown");
    let image = app.get(&format!("/images/products/{KNIFE_SLUG}")).await;
    assert_eq!(image.headers()["content-type"], "image/svg+xml");
}

async fn a_product_page_breadcrumb_names_its_category(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = format!("/product/{KNIFE_SLUG}");
    let breadcrumb = r#"<a href="/category/kitchen">Kitchen</a> › "#;
    // Rendered for the page cache, served from it, then rendered for a
    // shopper with a cart: three ways to the same breadcrumb.
    for view in ["first view", "cached view"] {
        let html = app.get_html(&page).await;
        assert!(html.contains(breadcrumb), "{view}: {html}");
    }
    app.add_to_cart(crate::helpers::KNIFE_ID, 1).await;
    let html = app.get_html(&page).await;
    assert!(html.contains(r#"id="cart-count">1<"#), "{html}");
    assert!(html.contains(breadcrumb), "with a cart: {html}");
}

async fn an_unknown_product_or_category_is_a_friendly_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/product/no-such-thing",
        "/category/no-such-thing",
        "/no/such/page",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Back to the shop"),
            "{path} is not the friendly page"
        );
    }
    let api = app.get("/api/v1/products/99999").await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"], "no product 99999");
}

async fn the_api_lists_filters_and_paginates_products(backend: Backend) {
    let app = spawn_app(backend).await;
    let categories: Value = app.get("/api/v1/categories").await.json().await.unwrap();
    assert_eq!(categories.as_array().unwrap().len(), 6);
    let books: Value = app
        .get("/api/v1/products?category=books&per_page=4&page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(books["total"], 10);
    assert_eq!(books["page"], 2);
    assert_eq!(books["page_count"], 3);
    let items = books["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items
        .iter()
        .all(|p| p["category"] == "books" && p["currency"] == "EUR"));
    let unknown = app.get("/api/v1/products?category=nope").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
