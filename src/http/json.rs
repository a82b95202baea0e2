//! `ApiJson<T>`: a JSON body extractor whose every failure is a problem
//! answer naming the offending field (actix's `Json` answers in plain text).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};

/// Largest accepted request body, in bytes (app data; a default applies).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

const DEFAULT_LIMIT: usize = 64 * 1024;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .map(|l| l.0)
            .unwrap_or(DEFAULT_LIMIT);
        let content_type_ok = match req.mime_type() {
            Ok(Some(mime)) => {
                mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")
            }
            _ => false,
        };
        let declared_len = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(AppError::client(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "the request body must be JSON (Content-Type: application/json)",
                ));
            }
            if declared_len.is_some_and(|len| len > limit) {
                return Err(too_large(limit));
            }
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    AppError::bad_request("unreadable_body", "the request body could not be read")
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            let value = parse(&body)?;
            // JSON can only carry control characters as \u escapes.
            if body.windows(2).any(|w| w == b"\\u")
                && let Ok(tree) = serde_json::from_slice::<serde_json::Value>(&body)
                && let Some(field) = super::input::offending_json_field(&tree)
            {
                return Err(super::input::control_character_error(&field));
            }
            Ok(ApiJson(value))
        })
    }
}

fn too_large(limit: usize) -> AppError {
    AppError::client(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
}

/// Parses a body, naming the field at fault when the JSON is well formed but
/// does not fit the expected shape.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de);
    if value.is_ok()
        && let Err(e) = de.end()
    {
        return Err(AppError::bad_request(
            "malformed_json",
            format!(
                "the request body is not valid JSON: {}",
                strip_position(&e.to_string())
            ),
        ));
    }
    value.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = field_name(&path, &message);
                AppError::validation(vec![FieldError::new(field, message)])
            }
            _ if body.is_empty() => {
                AppError::bad_request("malformed_json", "the request body is empty")
            }
            _ => AppError::bad_request(
                "malformed_json",
                format!("the request body is not valid JSON: {message}"),
            ),
        }
    })
}

/// serde_json appends " at line L column C"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// For "missing field `x`" serde reports the parent's path; the field itself
/// is in the message.
fn field_name(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (named, path) {
        // serde_path_to_error already ends the path of an unknown field with it.
        (Some(name), path) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_owned()
        }
        (Some(name), "." | "") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => "body".to_owned(),
        (None, path) => path.to_owned(),
    }
}

/// A JSON body that may be left out: no body (and no Content-Type) is
/// `None`; a body present is read as `ApiJson` reads it, with the same
/// problem answers.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let empty = !headers.contains_key(actix_web::http::header::CONTENT_TYPE)
            && headers
                .get(actix_web::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v.trim() == "0");
        if empty {
            return Box::pin(async { Ok(OptionalJson(None)) });
        }
        let inner = ApiJson::<T>::from_request(req, payload);
        Box::pin(async move { inner.await.map(|j| OptionalJson(Some(j.0))) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: u32,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn field_errors(err: AppError) -> Vec<FieldError> {
        match err {
            AppError::Client(c) => c.errors,
            other => panic!("expected a client error, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        let errors = field_errors(parse::<Body>(br#"{"age": 3}"#).unwrap_err());
        assert_eq!(errors[0].field, "email");
        assert_eq!(errors[0].message, "missing field `email`");
    }

    #[test]
    fn a_wrong_type_is_named_with_its_path() {
        let errors = field_errors(
            parse::<Body>(br#"{"email":"a","age":1,"inner":{"name":5}}"#).unwrap_err(),
        );
        assert_eq!(errors[0].field, "inner.name");
        assert!(errors[0].message.starts_with("invalid type: integer `5`"));
    }

    #[test]
    fn an_unknown_field_is_named() {
        let errors = field_errors(parse::<Body>(br#"{"email":"a","age":1,"x":1}"#).unwrap_err());
        assert_eq!(errors[0].field, "x");
    }

    #[test]
    fn broken_json_is_a_400() {
        let err = parse::<Body>(br#"{"email": "#).unwrap_err();
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        assert_eq!(err.code(), "malformed_json");
        let err = parse::<Body>(br#"{"email":"a","age":1} trailing"#).unwrap_err();
        assert_eq!(err.code(), "malformed_json");
        assert_eq!(parse::<Body>(b"").unwrap_err().code(), "malformed_json");
    }
}
