//! A shopper's whole flow through the real pages in headless Chromium:
//! browse, add to cart, check out, see the confirmation.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{spawn_app, Backend};

/// chromedriver on a free port, killed when dropped.
pub(crate) struct ChromeDriver {
    process: Child,
    port: u16,
}

impl ChromeDriver {
    pub(crate) async fn start() -> ChromeDriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is not installed: apt-get install chromium chromium-driver (scripts/test.sh does)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return ChromeDriver { process, port };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = process.kill();
        let _ = process.wait();
        panic!("chromedriver did not start listening on port {port}");
    }

    /// A desktop-sized Chromium.
    async fn browser(&self) -> Client {
        self.session(json!({ "args": chromium_args("--window-size=1280,900") }))
            .await
    }

    /// A Chromium that lays pages out as a phone `width` CSS pixels wide
    /// does: its viewport, device pixel ratio and touch, and the page's
    /// `<meta name="viewport">` honoured.
    pub(crate) async fn phone(&self, width: u32, height: u32) -> Client {
        self.session(json!({
            "args": chromium_args(&format!("--window-size={width},{height}")),
            "mobileEmulation": {
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0, "touch": true }
            },
        }))
        .await
    }

    async fn session(&self, chrome_options: serde_json::Value) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), chrome_options);
        // chromedriver is on loopback: plain HTTP, no TLS stack needed.
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("chromedriver starts a Chromium session")
    }
}

fn chromium_args(window_size: &str) -> Vec<&str> {
    vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        window_size,
    ]
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_browses_adds_to_cart_and_checks_out_in_a_real_browser() {
    let app = spawn_app(Backend::Sqlite).await;
    let driver = ChromeDriver::start().await;
    let browser = driver.browser().await;
    let result = shop_in(&browser, &app.address).await;
    let _ = browser.close().await;
    let order_page = result.expect("the shopper's flow failed");
    assert!(order_page.contains("Thank you! Your order is confirmed."));
    assert!(order_page.contains("Grace Hopper"));
    assert_eq!(app.db.order_count().await.unwrap(), 1);
}

async fn shop_in(browser: &Client, address: &str) -> Result<String, fantoccini::error::CmdError> {
    browser.goto(&format!("{address}/")).await?;
    browser
        .find(Locator::Css("nav.categories a[href='/category/books']"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .for_element(Locator::Css("main#page-category"))
        .await?;
    browser
        .find(Locator::Css(".card a.card-link"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .for_element(Locator::Css("main#page-product"))
        .await?;
    let quantity = browser.find(Locator::Css("input#quantity")).await?;
    quantity.clear().await?;
    quantity.send_keys("2").await?;
    browser
        .find(Locator::Css("form.add-to-cart button[type=submit]"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .for_element(Locator::Css("main#page-cart"))
        .await?;
    let count = browser
        .find(Locator::Css("#cart-count"))
        .await?
        .text()
        .await?;
    assert_eq!(count, "2", "the cart badge does not show the two items");
    browser
        .find(Locator::Css("a[href='/checkout']"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .for_element(Locator::Css("main#page-checkout"))
        .await?;
    browser
        .find(Locator::Css("input#name"))
        .await?
        .send_keys("Grace Hopper")
        .await?;
    browser
        .find(Locator::Css("input#email"))
        .await?
        .send_keys("grace@example.com")
        .await?;
    browser
        .find(Locator::Css("textarea#address"))
        .await?
        .send_keys("1 Navy Yard, Arlington")
        .await?;
    browser
        .find(Locator::Css("form.stacked button[type=submit]"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .for_element(Locator::Css("main#page-order"))
        .await?;
    browser.source().await
}
