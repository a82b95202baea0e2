//! Answers requests no route took: 405 with `Allow` when the path exists
//! under other methods, 404 otherwise. The route table is read from the
//! OpenAPI document, which is built from the same registrations as the router.

use actix_web::{HttpRequest, web};
use utoipa::openapi::OpenApi;

use crate::error::AppError;

/// Path templates (`/api/v1/staff/{id}`) with the methods each accepts.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param,
}

impl RouteTable {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = split(path)
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let methods = [
                    (item.get.is_some(), "GET"),
                    (item.post.is_some(), "POST"),
                    (item.put.is_some(), "PUT"),
                    (item.patch.is_some(), "PATCH"),
                    (item.delete.is_some(), "DELETE"),
                ]
                .iter()
                .filter(|(present, _)| *present)
                .map(|(_, m)| (*m).to_owned())
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// Methods the path accepts, if any route template matches it.
    pub fn methods_for(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = split(path).collect();
        let mut found: Vec<String> = Vec::new();
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(seg, part)| match seg {
                    Segment::Param => !part.is_empty(),
                    Segment::Literal(lit) => lit == part,
                });
            if matches {
                found.extend(methods.iter().cloned());
            }
        }
        (!found.is_empty()).then_some(found)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

/// The app's default service.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, AppError> {
    Err(match table.methods_for(req.path()) {
        Some(methods) if !methods.iter().any(|m| m == req.method().as_str()) => {
            AppError::method_not_allowed(methods.join(", "))
        }
        _ => AppError::client(
            actix_web::http::StatusCode::NOT_FOUND,
            "route_not_found",
            format!("no route {} {}", req.method(), req.path()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable {
            routes: vec![
                (
                    vec![Segment::Literal("staff".into()), Segment::Param],
                    vec!["GET".into(), "PATCH".into()],
                ),
                (vec![Segment::Literal("staff".into())], vec!["POST".into()]),
            ],
        }
    }

    #[test]
    fn a_template_matches_any_id() {
        assert_eq!(
            table().methods_for("/staff/0193-abc"),
            Some(vec!["GET".to_owned(), "PATCH".to_owned()])
        );
        assert_eq!(table().methods_for("/staff"), Some(vec!["POST".to_owned()]));
    }

    #[test]
    fn other_paths_match_nothing() {
        assert_eq!(table().methods_for("/staff/1/extra"), None);
        assert_eq!(table().methods_for("/venues"), None);
    }
}
