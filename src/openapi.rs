//! The OpenAPI 3.1 document. Paths are collected from the same `service`
//! calls that register the routes (utoipa-actix-web), so the document and the
//! router cannot drift apart; this module adds the info and security scheme.

use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa::{PartialSchema, ToSchema};

use crate::bookings::types::BookingStatus;
use crate::schedule::types::SessionStatus;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "madoguchi API",
        description = "Booking, attendance and consultation desk for municipal digital-support programmes. \
                       Errors are RFC 9457 problem documents with a stable `code`.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Login, token refresh, logout"),
        (name = "me", description = "The caller's own account"),
        (name = "staff", description = "Staff accounts of the organisation (admins)"),
        (name = "organisation", description = "The caller's organisation and its timezone"),
        (name = "venues", description = "Where sessions take place"),
        (name = "courses", description = "What is taught, and the topics courses are tagged with"),
        (name = "schedule", description = "Closures, recurring series and sessions with live availability"),
        (name = "residents", description = "The people staff book for"),
        (name = "bookings", description = "Seats, waitlists, cancellations and attendance"),
        (name = "devices", description = "Loaner devices, reservations and loans"),
        (name = "fees", description = "Payments, refunds, balances and the cash sheet"),
        (name = "tickets", description = "The ICT consultation desk"),
        (name = "messages", description = "Mail to residents (the outbox) and the call list for those who get calls"),
        (name = "reports", description = "Figures of a period for the municipality and the programme, as JSON, CSV or xlsx"),
        (name = "privacy", description = "Residents' rights over their data: export and erasure"),
        (name = "audit", description = "Who changed what"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Completes the collected document: the failures every operation can meet
/// (400/415/422 for a body, 422 for parameters, 401 behind a token, 503 when
/// the database is away) are added where an operation does not describe its
/// own; schemas referenced through `value_type` are registered; `CourseInput`
/// names what creating a course requires, and `PATCH /courses/{id}` gets the
/// all-optional `CourseUpdate`.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(BookingStatus::name().into_owned(), BookingStatus::schema());
    components
        .schemas
        .insert(SessionStatus::name().into_owned(), SessionStatus::schema());
    if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(course))) =
        components.schemas.get("CourseInput").cloned()
    {
        components.schemas.insert(
            "CourseUpdate".into(),
            RefOr::T(utoipa::openapi::schema::Schema::Object(course.clone())),
        );
        let mut create = course;
        create.required = ["title", "kind", "default_fee_yen", "default_length_minutes"]
            .map(String::from)
            .to_vec();
        components.schemas.insert(
            "CourseInput".into(),
            RefOr::T(utoipa::openapi::schema::Schema::Object(create)),
        );
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        if path == "/api/v1/courses/{id}"
            && let Some(patch) = item.patch.as_mut()
            && let Some(RefOr::T(body)) = patch.request_body.as_mut()
        {
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else { continue };
                content.schema = Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "CourseUpdate",
                )));
            }
        }
        for method in [
            HttpMethod::Get,
            HttpMethod::Post,
            HttpMethod::Put,
            HttpMethod::Patch,
            HttpMethod::Delete,
        ] {
            let op = match method {
                HttpMethod::Get => item.get.as_mut(),
                HttpMethod::Post => item.post.as_mut(),
                HttpMethod::Put => item.put.as_mut(),
                HttpMethod::Patch => item.patch.as_mut(),
                HttpMethod::Delete => item.delete.as_mut(),
                _ => None,
            };
            if let Some(op) = op {
                add_common_failures(op);
            }
        }
    }
}

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "Problem",
                    ))))
                    .build(),
            )
            .build(),
    )
}

fn add_common_failures(op: &mut Operation) {
    let has_body = op.request_body.is_some();
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    if has_body {
        wanted.push(("400", "Malformed JSON"));
        wanted.push(("413", "Body too large"));
        wanted.push(("415", "The body is not JSON"));
    }
    if has_body || has_params {
        wanted.push(("422", "Invalid input; `errors[]` names each field"));
    }
    if secured {
        wanted.push(("401", "Missing, invalid or expired token"));
    }
    wanted.push(("503", "The database is unreachable or busy; retry"));
    for (status, description) in wanted {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    }
}
