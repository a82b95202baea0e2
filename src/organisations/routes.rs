//! `/api/v1/organisation`: the caller's organisation; admins rename it and
//! set its timezone.

use actix_web::{get, patch, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Organisation, queries};
use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::{AppResult, Problem};
use crate::http::ApiJson;
use crate::staff::types::Role;
use crate::state::AppState;
use crate::validate::{Checker, required_text};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_organisation).service(update_organisation);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    pub name: Option<String>,
    /// IANA timezone, e.g. `Asia/Tokyo`. Sessions keep their instants; their
    /// local times are shown in the new zone.
    pub timezone: Option<String>,
}

/// Parses an IANA timezone name.
pub fn parse_timezone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| format!("unknown timezone {name:?}: use an IANA name such as Asia/Tokyo"))
}

/// The caller's organisation.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    responses((status = 200, description = "The organisation", body = Organisation))
)]
#[get("/organisation")]
async fn get_organisation(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<Organisation>> {
    let row = state
        .db(move |conn| Ok(queries::get(conn, caller.organisation_id)?))
        .await?;
    Ok(web::Json(row.into()))
}

/// Rename the organisation or change its timezone (admins).
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    request_body = UpdateOrganisation,
    responses(
        (status = 200, description = "Updated", body = Organisation),
        (status = 409, description = "Name used by another organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, e.g. an unknown timezone", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organisation")]
async fn update_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<UpdateOrganisation>,
) -> AppResult<web::Json<Organisation>> {
    caller.require(&[Role::Admin])?;
    let mut v = Checker::new();
    let name = body
        .0
        .name
        .as_deref()
        .map(|n| v.check("name", required_text(n, 200)));
    let timezone = body.0.timezone.as_deref().map(|tz| {
        v.check(
            "timezone",
            parse_timezone(tz).map(|tz| tz.name().to_owned()),
        )
    });
    v.finish()?;
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = queries::update(
                    conn,
                    caller.organisation_id,
                    name.as_deref(),
                    timezone.as_deref(),
                )?;
                audit::record(
                    conn,
                    AuditEntry {
                        organisation_id: caller.organisation_id,
                        actor_id: Some(caller.account_id),
                        action: "organisation.update",
                        entity: "organisation",
                        entity_id: caller.organisation_id.to_string(),
                        summary: format!("name {}, timezone {}", row.name, row.timezone),
                    },
                )?;
                Ok(row)
            })
        })
        .await?;
    Ok(web::Json(row.into()))
}
