//! The stylesheet and product pictures: static or computed, never from the
//! database, and cacheable.

use actix_web::{http::header, web, HttpResponse};

use super::PageError;

const STYLESHEET: &str = include_str!("../../../static/shop.css");

pub(super) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// A product picture as SVG: a colour and initials derived from the slug.
pub(super) async fn product_image(slug: web::Path<String>) -> Result<HttpResponse, PageError> {
    let slug = slug.into_inner();
    let valid = !slug.is_empty()
        && slug.len() <= 80
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(PageError::NotFound("There is no such picture.".into()));
    }
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(svg(&slug)))
}

fn svg(slug: &str) -> String {
    // FNV-1a: a stable hash, so a product keeps its colour across builds.
    let hash = slug.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let hue = hash % 360;
    let accent = (hue + 40) % 360;
    let initials: String = slug
        .split('-')
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 240" width="320" height="240" role="img">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},55%,62%)"/><stop offset="1" stop-color="hsl({accent},60%,42%)"/></linearGradient></defs>
<rect width="320" height="240" fill="url(#g)"/>
<circle cx="250" cy="60" r="70" fill="#ffffff" fill-opacity="0.12"/>
<circle cx="60" cy="200" r="90" fill="#000000" fill-opacity="0.08"/>
<text x="160" y="140" text-anchor="middle" font-family="system-ui, sans-serif" font-size="72" font-weight="700" fill="#ffffff" fill-opacity="0.92">{initials}</text>
</svg>"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_is_stable_and_carries_the_initials() {
        assert_eq!(svg("chefs-knife"), svg("chefs-knife"));
        assert!(svg("chefs-knife").contains(">CK</text>"));
        assert_ne!(svg("chefs-knife"), svg("dutch-oven"));
    }
}
