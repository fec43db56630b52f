//! The reference handler: actix-web answering every request with a fixed
//! body, with as many workers as the shop. What the shop reaches is measured
//! as a share of what this reaches on the same machine in the same run.
//!
//! `bench-reference [ADDRESS]` (default `127.0.0.1:8090`).

use actix_web::{web, App, HttpResponse, HttpServer};

const BODY: &str = "Reliable Goods: the reference handler\n";

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    HttpServer::new(|| {
        App::new().default_service(web::to(|| async {
            HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .body(BODY)
        }))
    })
    .bind(&address)
    .map_err(|e| std::io::Error::new(e.kind(), format!("binding {address}: {e}")))?
    .run()
    .await
}
