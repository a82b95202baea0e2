//! Refuses control characters (NUL, ESC, DEL, C1 …) in every query parameter,
//! path segment and JSON string before any handler sees them: PostgreSQL
//! cannot store NUL in text (a 500 if it got that far), SQLite's LIKE stops
//! matching at it, and no field of ours means anything with one. One
//! middleware for query and path, one check in `ApiJson` for bodies.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::error::{AppError, FieldError};

/// Middleware: a 422 naming the parameter (or `path`) that holds a control
/// character; nothing else runs.
pub async fn reject_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(field) = offending_parameter(req.query_string(), req.path()) {
        return Err(control_character_error(&field).into());
    }
    next.call(req).await
}

/// The 422 for a field holding a control character.
pub fn control_character_error(field: &str) -> AppError {
    AppError::client(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        format!("{field} contains a control character"),
    )
    .with_field_error(FieldError::new(
        field,
        "must not contain control characters (NUL, escape, delete …)",
    ))
}

/// The first query parameter (by name) or `path` whose decoded value holds a
/// control character. Any character at all is a control character in a
/// query parameter or a path, including tabs and line breaks.
pub fn offending_parameter(query: &str, path: &str) -> Option<String> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if has_control(&name) || has_control(&value) {
            let name: String = name.chars().filter(|c| !c.is_control()).collect();
            return Some(if name.is_empty() {
                "query".into()
            } else {
                name
            });
        }
    }
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    has_control(&decoded).then(|| "path".to_owned())
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// In JSON bodies tabs and line breaks are text (notes, addresses); any
/// other control character is refused. Answers the path of the first string
/// (or object key) holding one, e.g. `email` or `items[2].name`.
pub fn offending_json_field(value: &Value) -> Option<String> {
    fn bad(text: &str) -> bool {
        text.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    }
    fn walk(value: &Value, path: &str) -> Option<String> {
        match value {
            Value::String(s) if bad(s) => Some(if path.is_empty() {
                "body".into()
            } else {
                path.into()
            }),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(v, &format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if bad(k) {
                    Some(if path.is_empty() {
                        "body".into()
                    } else {
                        path.into()
                    })
                } else {
                    walk(v, &here)
                }
            }),
            _ => None,
        }
    }
    walk(value, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_nul_in_a_query_parameter_names_the_parameter() {
        assert_eq!(
            offending_parameter("q=x%00y", "/api/v1/residents"),
            Some("q".into())
        );
        assert_eq!(
            offending_parameter("limit=5&district=%1b%5B31m", "/x"),
            Some("district".into())
        );
        assert_eq!(offending_parameter("q=%7F", "/x"), Some("q".into()));
        assert_eq!(
            offending_parameter("q=%C2%85", "/x"),
            Some("q".into()),
            "C1 NEL"
        );
    }

    #[test]
    fn ordinary_text_passes() {
        assert_eq!(
            offending_parameter(
                "q=%E3%81%84%E3%81%A8%E3%81%86+%E8%8A%B1&limit=5",
                "/api/v1/residents"
            ),
            None
        );
        assert_eq!(offending_parameter("", "/api/v1/sessions/0192-ab"), None);
    }

    #[test]
    fn a_control_character_in_a_path_segment_is_named_path() {
        assert_eq!(
            offending_parameter("", "/api/v1/feeds/ab%00cd"),
            Some("path".into())
        );
    }

    #[test]
    fn json_bodies_allow_line_breaks_but_not_nul() {
        assert_eq!(
            offending_json_field(&json!({"notes": "一行目\n二行目\tタブ"})),
            None
        );
        assert_eq!(
            offending_json_field(&json!({"email": "a\u{0}@x.jp"})),
            Some("email".into())
        );
        assert_eq!(
            offending_json_field(&json!({"items": [{"name": "ok"}, {"name": "\u{1b}"}]})),
            Some("items[1].name".into())
        );
    }
}
