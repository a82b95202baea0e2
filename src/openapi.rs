//! The OpenAPI 3.1 document. Paths are collected from the same `service`
//! calls that register the routes (utoipa-actix-web), so the document and the
//! router cannot drift apart; this module adds the info and security scheme.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
