use std::collections::BTreeMap;

use actix_web::{error::JsonPayloadError, http::StatusCode, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::storage::StorageError;

/// Every API error answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong, for a person to read.
    pub error: String,
    /// Field name → problem, for invalid input.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("send the body as JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("{0}")]
    Conflict(String),
    #[error("the request is not valid")]
    Invalid(BTreeMap<String, String>),
    #[error("the database is unavailable; retry in a moment")]
    Unavailable(#[source] StorageError),
    #[error("unexpected error; it has been logged")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub(crate) fn from_json(error: JsonPayloadError) -> Self {
        match error {
            JsonPayloadError::Overflow { limit }
            | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                ApiError::PayloadTooLarge(limit)
            }
            JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
            JsonPayloadError::Deserialize(e) => {
                ApiError::BadRequest(format!("invalid JSON body: {e}"))
            }
            other => ApiError::BadRequest(format!("could not read the body: {other}")),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        if error.is_unavailable() {
            ApiError::Unavailable(error)
        } else {
            ApiError::Unexpected(anyhow::Error::new(error))
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Unexpected(e) => {
                tracing::error!(error = format!("{e:#}"), "API request failed")
            }
            ApiError::Unavailable(e) => {
                tracing::warn!(error = e as &dyn std::error::Error, "database unavailable")
            }
            _ => {}
        }
        let fields = match self {
            ApiError::Invalid(fields) => fields.clone(),
            _ => BTreeMap::new(),
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unavailable(_)) {
            response.insert_header((actix_web::http::header::RETRY_AFTER, "5"));
        }
        response.json(ErrorBody {
            error: self.to_string(),
            fields,
        })
    }
}
