use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web, Error, HttpResponse,
};

use super::{Effect, Outcome};
use crate::{contract::metrics::UNMATCHED_ROUTE, state::AppState};

/// Applies the active faults to a request.
pub async fn inject_faults(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let effect = match req.app_data::<web::Data<AppState>>() {
        Some(state) => {
            let route = req.match_pattern();
            state
                .faults
                .effect(route.as_deref().unwrap_or(UNMATCHED_ROUTE))
        }
        None => Effect::default(),
    };
    if !effect.delay.is_zero() {
        tokio::time::sleep(effect.delay).await;
    }
    match effect.outcome {
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
        Some(Outcome::Status(status)) => Ok(req.into_response(
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body("Injected fault: this error was requested through the fault API.\n"),
        )),
        // A body that fails at once: the connection is closed without a
        // complete response, as when a process dies mid-request.
        Some(Outcome::Abort) => Ok(req.into_response(
            HttpResponse::InternalServerError().streaming(futures_util::stream::once(async {
                Err::<web::Bytes, _>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "connection aborted by an injected fault",
                ))
            })),
        )),
    }
}
