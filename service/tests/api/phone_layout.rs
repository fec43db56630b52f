//! The shop's pages on a phone: at 390 CSS pixels (an iPhone 12 to 15),
//! nothing may be wider than the screen, so that no part of a page is
//! reached only by scrolling sideways. Screenshots of each page are kept in
//! target/screenshots/ to look at.

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::{
    browser::ChromeDriver,
    helpers::{spawn_app, Backend, KNIFE_SLUG},
};

const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;

/// The page's widths and every element that reaches past the left or right
/// edge of a screen `arguments[0]` pixels wide, clipped or not (a bar cut off
/// at the edge is off the screen all the same), as `tag.class` with its left
/// and right edges. A phone widens its layout viewport to fit content that
/// does not fit, so `innerWidth` past the screen's width is a failure too.
const OVERFLOW_SCRIPT: &str = r#"
const width = arguments[0];
const wide = [];
for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || (box.right <= width + 0.5 && box.left >= -0.5)) continue;
    const classes = typeof element.className === 'string' && element.className
        ? '.' + element.className.trim().split(/\s+/).join('.') : '';
    wide.push(`${element.tagName.toLowerCase()}${classes} (${Math.round(box.left)} to ${Math.round(box.right)})`);
}
return { screen: window.screen.width, viewport: window.innerWidth,
         scroll: document.documentElement.scrollWidth, wide: wide };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_is_wider_than_a_390_pixel_phone() {
    let app = spawn_app(Backend::Sqlite).await;
    let driver = ChromeDriver::start().await;
    let phone = driver.phone(PHONE_WIDTH, PHONE_HEIGHT).await;
    let result = visit_each_page(&phone, &app.address).await;
    let _ = phone.close().await;
    let pages = result.expect("the phone could not open the pages");

    let mut too_wide = Vec::new();
    for (page, layout) in &pages {
        assert_eq!(
            layout["screen"], PHONE_WIDTH,
            "{page}: the browser's screen is not {PHONE_WIDTH} px wide, so the check means nothing"
        );
        let viewport = layout["viewport"].as_u64().unwrap_or(u64::MAX);
        let scroll = layout["scroll"].as_u64().unwrap_or(u64::MAX);
        let wide = layout["wide"].as_array().cloned().unwrap_or_default();
        if viewport.max(scroll) > u64::from(PHONE_WIDTH) || !wide.is_empty() {
            too_wide.push(format!(
                "{page}: laid out {viewport} px wide, content {scroll} px; past the edge: {wide:?}"
            ));
        }
    }
    assert_eq!(pages.len(), 4, "not every page was checked");
    assert!(
        too_wide.is_empty(),
        "pages wider than a {PHONE_WIDTH} px phone:\n{}",
        too_wide.join("\n")
    );
}

/// Home, a category, a product and the cart with that product in it: each
/// page's measurements, a screenshot of each kept.
async fn visit_each_page(
    phone: &Client,
    address: &str,
) -> Result<Vec<(&'static str, Value)>, fantoccini::error::CmdError> {
    let mut pages = Vec::new();
    for (name, path, main) in [
        ("home", "/".to_owned(), "page-home"),
        ("category", "/category/kitchen".to_owned(), "page-category"),
        ("product", format!("/product/{KNIFE_SLUG}"), "page-product"),
    ] {
        phone.goto(&format!("{address}{path}")).await?;
        phone.wait().for_element(Locator::Id(main)).await?;
        pages.push((name, measure(phone, name).await?));
    }
    phone
        .find(Locator::Css("form.add-to-cart button[type=submit]"))
        .await?
        .click()
        .await?;
    phone.wait().for_element(Locator::Id("page-cart")).await?;
    phone.find(Locator::Css("table.cart")).await?;
    pages.push(("cart", measure(phone, "cart").await?));
    Ok(pages)
}

async fn measure(phone: &Client, name: &str) -> Result<Value, fantoccini::error::CmdError> {
    let layout = phone
        .execute(OVERFLOW_SCRIPT, vec![Value::from(PHONE_WIDTH)])
        .await?;
    let png = phone.screenshot().await?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("phone-{name}.png")), png);
    }
    Ok(layout)
}
