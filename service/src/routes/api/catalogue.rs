use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{errors::ErrorBody, ApiError};
use crate::{
    state::AppState,
    storage::{Category, Page, Product, ProductFilter},
};

const MAX_PER_PAGE: u32 = 100;
const MAX_PAGE: u32 = 10_000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ProductQuery {
    /// Only products of this category (its slug).
    category: Option<String>,
    /// Case-insensitive text searched in names and descriptions (at most 100 characters).
    q: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 10000)]
    page: Option<u32>,
    /// Products per page, 1 to 100 (default 12).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

/// All categories.
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalogue",
    responses((status = 200, description = "Every category", body = Vec<Category>)))]
pub(super) async fn list_categories(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(&state.categories)
}

/// Products, filtered and paginated.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalogue", params(ProductQuery),
    responses(
        (status = 200, description = "One page of products", body = Page<Product>),
        (status = 400, description = "Bad paging or search text", body = ErrorBody),
        (status = 404, description = "Unknown category", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ))]
pub(super) async fn list_products(
    state: web::Data<AppState>,
    query: web::Query<ProductQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(12);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(ApiError::BadRequest(format!(
            "page must be between 1 and {MAX_PAGE}"
        )));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::BadRequest(format!(
            "per_page must be between 1 and {MAX_PER_PAGE}"
        )));
    }
    if let Some(category) = &query.category {
        if !state.categories.iter().any(|c| &c.slug == category) {
            return Err(ApiError::NotFound(format!("no category `{category}`")));
        }
    }
    let text = query
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if text.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::BadRequest(
            "q is limited to 100 characters".into(),
        ));
    }
    let filter = ProductFilter {
        category: query.category,
        text,
    };
    Ok(HttpResponse::Ok().json(state.db.products(&filter, page, per_page).await?))
}

/// One product.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalogue",
    params(("id" = i64, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = Product),
        (status = 404, description = "No such product", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ))]
pub(super) async fn get_product(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let product = state
        .db
        .product_by_id(*id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no product {id}")))?;
    Ok(HttpResponse::Ok().json(product))
}
