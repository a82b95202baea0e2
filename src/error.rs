//! The one error type of the HTTP layer, rendered as RFC 9457
//! `application/problem+json` with a stable machine `code`.
//!
//! Client errors carry their own status and code. Database, pool and other
//! unexpected failures are logged with their cause and answered with an
//! opaque body: internals never reach the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `email` or `items[2].name`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, as sent to the client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:madoguchi:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case machine code, e.g. `email_taken`, `invalid_token`.
    pub code: String,
    /// Per-field messages for validation problems (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extension members of some problems, e.g. `candidates` of a
    /// `possible_duplicate`.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// A client error: what went wrong, in the caller's terms.
#[derive(Debug)]
pub struct ClientError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    pub allow: Option<String>,
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{} ({}): {}", .0.status, .0.code, .0.detail)]
    Client(Box<ClientError>),
    #[error("database error")]
    Database(DieselError),
    #[error("no database connection available")]
    PoolExhausted(#[source] diesel::r2d2::PoolError),
    /// Every database connection stayed busy for `acquire_timeout_ms`.
    #[error("no database connection free in time")]
    Busy,
    /// The database did not answer within the request's deadline.
    #[error("the database did not answer in time")]
    DatabaseTimeout,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<DieselError> for AppError {
    fn from(e: DieselError) -> Self {
        if is_unreachable(&e) {
            // The connection this came from may be dead: the pool drops it
            // when it comes back (`db::ConnectionManager::has_broken`).
            crate::db::note_broken_connection();
        }
        AppError::Database(e)
    }
}

impl AppError {
    pub fn client(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Client(Box::new(ClientError {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
            allow: None,
            extensions: serde_json::Map::new(),
        }))
    }

    /// 404 for an id that does not exist *in the caller's organisation*.
    pub fn not_found(what: &str) -> Self {
        Self::client(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, code, detail)
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, code, detail)
    }

    /// 422 with one message per invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [only] => format!("{}: {}", only.field, only.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        let mut err = Self::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            detail,
        );
        if let AppError::Client(c) = &mut err {
            c.errors = errors;
        }
        err
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut err = Self::client(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed attempts; try again in {retry_after_secs} seconds"),
        );
        if let AppError::Client(c) = &mut err {
            c.retry_after_secs = Some(retry_after_secs);
        }
        err
    }

    pub fn method_not_allowed(allow: String) -> Self {
        let mut err = Self::client(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this resource allows only {allow}"),
        );
        if let AppError::Client(c) = &mut err {
            c.allow = Some(allow);
        }
        err
    }

    /// Adds an extension member to a client error's problem document.
    pub fn with_extension(mut self, key: &str, value: serde_json::Value) -> Self {
        if let AppError::Client(c) = &mut self {
            c.extensions.insert(key.to_owned(), value);
        }
        self
    }

    /// Adds a per-field message to a client error.
    pub fn with_field_error(mut self, error: FieldError) -> Self {
        if let AppError::Client(c) = &mut self {
            c.errors.push(error);
        }
        self
    }

    /// The machine code the client will see.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Client(c) => c.code,
            AppError::Database(DieselError::NotFound) => "not_found",
            AppError::Database(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            )) => "conflict",
            AppError::Database(e) if is_busy(e) => "database_busy",
            AppError::PoolExhausted(_) | AppError::Busy => "service_unavailable",
            AppError::Database(e) if is_unreachable(e) => "database_unavailable",
            AppError::DatabaseTimeout => "database_unavailable",
            _ => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            AppError::Client(c) => c.detail.clone(),
            AppError::Database(DieselError::NotFound) => "not found".into(),
            AppError::Database(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            )) => "this conflicts with an existing record".into(),
            AppError::Database(e) if is_busy(e) => "the database is busy; retry the request".into(),
            AppError::PoolExhausted(_) | AppError::Busy => {
                "the service is busy; retry the request".into()
            }
            AppError::Database(e) if is_unreachable(e) => {
                "the database is not reachable; retry the request".into()
            }
            AppError::DatabaseTimeout => {
                "the database did not answer in time; retry the request".into()
            }
            _ => "an unexpected error occurred; it has been logged".into(),
        }
    }
}

/// Lock contention, a serialization failure or a deadlock PostgreSQL broke
/// (its victim's transaction rolled back whole): the request may be retried.
fn is_busy(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => {
            let m = info.message();
            m.contains("database is locked") || m.contains("deadlock detected")
        }
        _ => false,
    }
}

/// The database went away or timed out mid-request (a dropped connection, a
/// statement timeout, a connection that could not be opened): retryable.
fn is_unreachable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => {
            let m = info.message();
            m.contains("statement timeout")
                || m.contains("server closed the connection")
                || m.contains("could not receive data")
                || m.contains("could not send data")
                || m.contains("connection timed out")
                || m.contains("no connection to the server")
                || m.contains("terminating connection")
        }
        _ => false,
    }
}

fn title_of(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Client(c) => c.status,
            AppError::Database(DieselError::NotFound) => StatusCode::NOT_FOUND,
            AppError::Database(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            )) => StatusCode::CONFLICT,
            AppError::Database(e) if is_busy(e) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::PoolExhausted(_) | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(e) if is_unreachable(e) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::DatabaseTimeout => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            log_server_error(self);
        }
        let problem = Problem {
            type_: format!("urn:madoguchi:problem:{}", self.code()),
            title: title_of(status).to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().to_owned(),
            errors: match self {
                AppError::Client(c) => c.errors.clone(),
                _ => Vec::new(),
            },
            extensions: match self {
                AppError::Client(c) => c.extensions.clone(),
                _ => serde_json::Map::new(),
            },
        };
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let AppError::Client(c) = self {
            if let Some(secs) = c.retry_after_secs {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            if let Some(allow) = c
                .allow
                .as_deref()
                .and_then(|a| HeaderValue::from_str(a).ok())
            {
                res.insert_header((header::ALLOW, allow));
            }
            if c.status == StatusCode::UNAUTHORIZED {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            res.insert_header((header::RETRY_AFTER, "1"));
        }
        res.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

/// Logs a server-side failure. Database messages are logged without their
/// `details()`, which can echo the values of the failing row.
fn log_server_error(err: &AppError) {
    match err {
        AppError::Database(DieselError::DatabaseError(kind, info)) => tracing::error!(
            kind = ?kind,
            message = info.message(),
            constraint = info.constraint_name(),
            table = info.table_name(),
            "database error"
        ),
        AppError::Database(e) => tracing::error!(error = %e, "database error"),
        AppError::PoolExhausted(e) => tracing::warn!(error = %e, "connection pool exhausted"),
        AppError::Busy => tracing::warn!("no database connection free in time"),
        AppError::DatabaseTimeout => tracing::warn!("the database did not answer in time"),
        AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
        AppError::Client(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_of(err: &AppError) -> serde_json::Value {
        let res = err.error_response();
        let bytes = res.into_body().try_into_bytes().unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn validation_problems_list_every_field() {
        let err = AppError::validation(vec![
            FieldError::new("email", "is not an email address"),
            FieldError::new("name", "must not be empty"),
        ]);
        assert_eq!(err.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = body_of(&err);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][1]["field"], "name");
        assert_eq!(body["type"], "urn:madoguchi:problem:validation_failed");
    }

    #[test]
    fn unexpected_errors_do_not_leak_their_cause() {
        let err = AppError::Internal(anyhow::anyhow!("secret connection string postgres://x"));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(&err);
        assert_eq!(body["code"], "internal_error");
        assert!(!body.to_string().contains("postgres://"));
    }

    #[test]
    fn a_missing_row_is_a_404() {
        let err = AppError::Database(DieselError::NotFound);
        assert_eq!(err.status_code(), StatusCode::NOT_FOUND);
        assert_eq!(body_of(&err)["code"], "not_found");
    }

    #[test]
    fn a_broken_deadlock_is_busy_not_a_bug() {
        // PostgreSQL's own words for SQLSTATE 40P01, which diesel does not
        // give a kind of its own.
        let err = AppError::Database(DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("deadlock detected".to_owned()),
        ));
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body_of(&err)["code"], "database_busy");
    }

    #[test]
    fn throttling_says_when_to_retry() {
        let res = AppError::too_many_requests(42).error_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "42");
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
    }
}
