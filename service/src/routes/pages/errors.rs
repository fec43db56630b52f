use actix_web::{http::StatusCode, HttpResponse, ResponseError};

use crate::{storage::StorageError, templates};

/// What can go wrong on a page; each variant is answered with the shop's
/// error page and a status that says whose fault it was.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("The shop cannot reach its database right now. Please try again in a moment.")]
    Unavailable(#[source] StorageError),
    #[error("Something went wrong on our side. It has been logged; please try again.")]
    Unexpected(#[from] anyhow::Error),
}

impl From<StorageError> for PageError {
    fn from(error: StorageError) -> Self {
        if error.is_unavailable() {
            PageError::Unavailable(error)
        } else {
            PageError::Unexpected(anyhow::Error::new(error))
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            PageError::Unexpected(e) => tracing::error!(error = format!("{e:#}"), "page failed"),
            PageError::Unavailable(e) => {
                tracing::warn!(error = e as &dyn std::error::Error, "database unavailable")
            }
            _ => {}
        }
        let title = match self {
            PageError::NotFound(_) => "Page not found",
            PageError::BadRequest(_) => "That request did not make sense",
            PageError::Forbidden(_) => "Not allowed",
            PageError::Unavailable(_) => "Back in a moment",
            PageError::Unexpected(_) => "Something went wrong",
        };
        let context = minijinja::context! {
            status => status.as_u16(),
            title => title,
            message => self.to_string(),
            layout => minijinja::context! {
                categories => Vec::<()>::new(), cart_count => 0, customer => (),
            },
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((actix_web::http::header::RETRY_AFTER, "5"));
        }
        match templates::render("error.jinja", context) {
            Ok(html) => response.content_type("text/html; charset=utf-8").body(html),
            Err(_) => response
                .content_type("text/plain; charset=utf-8")
                .body(self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{configuration::LogFormat, telemetry};

    #[test]
    fn an_error_page_is_the_template_not_the_plain_text_fallback() {
        let response = PageError::NotFound("No such page.".into()).error_response();
        assert_eq!(
            response
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .unwrap(),
            "text/html; charset=utf-8"
        );
    }

    #[test]
    fn an_unavailable_database_is_logged_with_its_cause() {
        let error = PageError::from(StorageError::from(sqlx::Error::PoolTimedOut));
        let lines = telemetry::test_support::capture(
            |lines| telemetry::get_subscriber("warn", LogFormat::Json, move || lines.clone()),
            || {
                error.error_response();
            },
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["message"], "database unavailable");
        assert_eq!(
            lines[0]["error"],
            format!("the database is unavailable: {}", sqlx::Error::PoolTimedOut)
        );
    }
}
