//! `/api/v1/venues/{id}/opening-hours`: a venue's own weekly hours (e.g. a
//! consultation centre open at one venue on Mondays and at another from
//! Tuesday to Sunday). Without its own hours a venue follows the
//! organisation's. Service levels of tickets taken at the venue count in
//! these hours.

use actix_web::{get, put, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries;
use crate::auth::{Caller, WRITERS};
use crate::calendar::{self, OpeningHours};
use crate::db::VenueId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_hours).service(set_hours);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueHours {
    pub venue_id: VenueId,
    /// `true`: the venue has its own hours; `false`: it follows the
    /// organisation's (shown in `hours`).
    pub own: bool,
    /// The hours in force, open days only, Monday first.
    pub hours: Vec<OpeningHours>,
}

pub fn hours_of(
    conn: &mut crate::db::DbConnection,
    caller: &Caller,
    venue: VenueId,
) -> AppResult<VenueHours> {
    queries::find(conn, caller.organisation_id, venue)?
        .ok_or_else(|| AppError::not_found("venue"))?;
    let own = calendar::hours::venue_hours(conn, venue)?;
    let week = if own.is_empty() {
        calendar::hours::organisation_week(conn, caller.organisation_id)?
    } else {
        calendar::hours::venue_weeks(conn, &[venue])?
            .remove(&venue)
            .unwrap_or_default()
    };
    Ok(VenueHours {
        venue_id: venue,
        own: !own.is_empty(),
        hours: calendar::hours::answer(&week),
    })
}

/// A venue's opening hours in force (its own, else the organisation's).
#[utoipa::path(
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Venue id")),
    responses(
        (status = 200, description = "The hours", body = VenueHours),
        (status = 404, description = "No such venue in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/venues/{id}/opening-hours")]
async fn get_hours(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<VenueHours>> {
    let venue = VenueId(id.into_inner());
    let hours = state.db(move |conn| hours_of(conn, &caller, venue)).await?;
    Ok(web::Json(hours))
}

/// Replace a venue's own hours (admins and coordinators). Days not listed
/// are closed at this venue; an empty list returns it to the
/// organisation's hours.
#[utoipa::path(
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Venue id")),
    request_body = Vec<OpeningHours>,
    responses(
        (status = 200, description = "Saved", body = VenueHours),
        (status = 404, description = "No such venue in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown weekday, a day twice, or closing before opening", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/venues/{id}/opening-hours")]
async fn set_hours(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<Vec<OpeningHours>>,
) -> AppResult<web::Json<VenueHours>> {
    caller.require(WRITERS)?;
    let venue = VenueId(id.into_inner());
    let hours = calendar::hours::parse_week(&body.0)?;
    let saved = state
        .write(move |conn| {
            super::service::set_hours(conn, &caller, venue, &hours)?;
            hours_of(conn, &caller, venue)
        })
        .await?;
    Ok(web::Json(saved))
}
