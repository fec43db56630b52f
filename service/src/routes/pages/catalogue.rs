//! Home, category listing, search and product pages.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use minijinja::context;
use serde::Deserialize;

use actix_web::http::StatusCode;
use anyhow::Context;

use super::{html_response, render, Layout, PageError, ShopSession};
use crate::product_pages::TOKEN_MARKER;
use crate::{state::AppState, storage::ProductFilter, templates};

/// Products per listing page.
const PER_PAGE: u32 = 12;
/// Longest search text.
const MAX_QUERY_CHARS: usize = 100;
/// Deepest page anyone could want; deeper is a crawler or a typo.
const MAX_PAGE: u32 = 1000;

#[derive(Deserialize)]
pub(super) struct Listing {
    page: Option<u32>,
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    page: Option<u32>,
}

fn page_number(page: Option<u32>) -> Result<u32, PageError> {
    match page.unwrap_or(1) {
        0 => Err(PageError::BadRequest("Pages are numbered from 1.".into())),
        n if n > MAX_PAGE => Err(PageError::BadRequest(format!(
            "There are no pages past {MAX_PAGE}."
        ))),
        n => Ok(n),
    }
}

pub(super) async fn home(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let featured = state.db.featured_products(8).await?;
    let layout = Layout::new(&state, &session).await?;
    render("home.jinja", context! { layout, featured })
}

pub(super) async fn category(
    state: web::Data<AppState>,
    session: Session,
    slug: web::Path<String>,
    listing: web::Query<Listing>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let page = page_number(listing.page)?;
    let Some(category) = state.categories.iter().find(|c| c.slug == *slug) else {
        return Err(PageError::NotFound(format!(
            "We have no category called “{slug}”."
        )));
    };
    let filter = ProductFilter {
        category: Some(category.slug.clone()),
        text: None,
    };
    let products = state.db.products(&filter, page, PER_PAGE).await?;
    let layout = Layout::new(&state, &session).await?;
    render(
        "category.jinja",
        context! { layout, category, products, current_category => &category.slug },
    )
}

pub(super) async fn search(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let page = page_number(query.page)?;
    let text = query.q.trim();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(PageError::BadRequest(format!(
            "Search text is limited to {MAX_QUERY_CHARS} characters."
        )));
    }
    let products = if text.is_empty() {
        None
    } else {
        let filter = ProductFilter {
            category: None,
            text: Some(text.to_owned()),
        };
        Some(state.db.products(&filter, page, PER_PAGE).await?)
    };
    let layout = Layout::new(&state, &session).await?;
    render("search.jinja", context! { layout, query => text, products })
}

pub(super) async fn product(
    state: web::Data<AppState>,
    session: Session,
    slug: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let product = state
        .db
        .product_by_slug(&slug)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("We have no product called “{slug}”.")))?;
    let mut layout = Layout::new(&state, &session).await?;
    if !layout.is_anonymous_and_empty() {
        return render("product.jinja", context! { layout, product });
    }
    if let Some(html) = state.product_pages.page(&product, &layout.csrf_token) {
        return Ok(html_response(StatusCode::OK, html));
    }
    let token = std::mem::replace(&mut layout.csrf_token, TOKEN_MARKER.to_owned());
    let html = templates::render("product.jinja", context! { layout, product })
        .context("rendering product.jinja")?;
    state.product_pages.keep(&product, &html);
    Ok(html_response(
        StatusCode::OK,
        html.replace(TOKEN_MARKER, &token),
    ))
}
