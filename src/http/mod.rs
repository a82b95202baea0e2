//! HTTP plumbing shared by every feature: the JSON body extractor, error
//! handlers for query strings and paths, and the fallback for unknown routes.

pub mod client;
mod fallback;
pub mod input;
mod json;
pub mod utc;

pub use fallback::{RouteTable, fallback};
pub use json::{ApiJson, BodyLimit, OptionalJson};

use actix_web::{HttpRequest, error, web};

use crate::error::{AppError, FieldError};

/// A query string that does not fit the handler's type is a 422.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(
        |err: error::QueryPayloadError, _req: &HttpRequest| {
            let message = match &err {
                error::QueryPayloadError::Deserialize(e) => e.to_string(),
                other => other.to_string(),
            };
            AppError::client(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                format!("the query string is invalid: {message}"),
            )
            .with_field_error(FieldError::new("query", message))
            .into()
        },
    )
}

/// A path segment that is not a valid id names nothing: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, _req| AppError::not_found("resource").into())
}
