//! Extractor limits and their errors: a malformed form, query, path or JSON
//! body is answered 4xx with a message saying what was wrong, as an HTML page
//! or as JSON depending on where it was sent.

use actix_web::{error, web, HttpRequest, HttpResponse};

use super::{api::ApiError, pages::PageError};

/// Largest JSON body the API reads.
pub(crate) const JSON_LIMIT: usize = 64 * 1024;
/// Largest form body a page reads.
pub(crate) const FORM_LIMIT: usize = 16 * 1024;

fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
}

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(JSON_LIMIT)
            .error_handler(|err, _req| ApiError::from_json(err).into()),
    )
    .app_data(
        web::FormConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(|err, req| match err {
                error::UrlencodedError::Overflow { .. } => {
                    bad_input(req, "The form is too large.".into())
                }
                other => bad_input(req, format!("The form could not be read: {other}.")),
            }),
    )
    .app_data(
        web::QueryConfig::default().error_handler(|err, req| {
            bad_input(req, format!("The query string is not valid: {err}."))
        }),
    )
    .app_data(web::PathConfig::default().error_handler(|_err, req| {
        if is_api(req) {
            ApiError::NotFound(format!("nothing at {}", req.path())).into()
        } else {
            PageError::NotFound("There is nothing at this address.".into()).into()
        }
    }));
}

fn bad_input(req: &HttpRequest, message: String) -> error::Error {
    if is_api(req) {
        ApiError::BadRequest(message).into()
    } else {
        PageError::BadRequest(message).into()
    }
}

/// Every path no route matches.
pub(super) async fn not_found(req: HttpRequest) -> Result<HttpResponse, error::Error> {
    Err(if is_api(&req) {
        ApiError::NotFound(format!("no API route {} {}", req.method(), req.path())).into()
    } else {
        PageError::NotFound(
            "There is nothing at this address. It may have moved, or never existed.".into(),
        )
        .into()
    })
}
