//! `/api/v1/venues`: admins and coordinators write, all staff read.

use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::queries;
use super::types::{Venue, VenueChanges, VenueFilter, VenueInput};
use crate::auth::{Caller, WRITERS};
use crate::db::VenueId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_venue)
        .service(list_venues)
        .service(get_venue)
        .service(update_venue)
        .service(archive_venue);
}

/// Create a venue.
#[utoipa::path(
    tag = "venues",
    security(("bearer" = [])),
    request_body = VenueInput,
    responses(
        (status = 201, description = "Created", body = Venue),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name already used (`venue_name_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/venues")]
async fn create_venue(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<VenueInput>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let changes = body.0.parse(true)?;
    let row = state
        .write(move |conn| super::service::create(conn, &caller, changes))
        .await?;
    Ok(HttpResponse::Created().json(Venue::from(row)))
}

/// List venues.
#[utoipa::path(
    tag = "venues",
    security(("bearer" = [])),
    params(VenueFilter),
    responses((status = 200, description = "One page of venues", body = Page<Venue>))
)]
#[get("/venues")]
async fn list_venues(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<VenueFilter>,
) -> AppResult<web::Json<Page<Venue>>> {
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    let rows = state
        .db(move |conn| Ok(queries::list(conn, caller.organisation_id, &filter, limit)?))
        .await?;
    let items = rows.into_iter().map(Venue::from).collect();
    Ok(web::Json(pagination::page(items, limit, |v| {
        v.id.to_string()
    })))
}

/// One venue.
#[utoipa::path(
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Venue id")),
    responses(
        (status = 200, description = "The venue", body = Venue),
        (status = 404, description = "No such venue in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/venues/{id}")]
async fn get_venue(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Venue>> {
    let id = VenueId(id.into_inner());
    let row = state
        .db(move |conn| Ok(queries::find(conn, caller.organisation_id, id)?))
        .await?
        .ok_or_else(|| AppError::not_found("venue"))?;
    Ok(web::Json(row.into()))
}

/// Change a venue; an empty string clears an optional field.
#[utoipa::path(
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Venue id")),
    request_body = VenueInput,
    responses(
        (status = 200, description = "Updated", body = Venue),
        (status = 404, description = "No such venue in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/venues/{id}")]
async fn update_venue(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<VenueInput>,
) -> AppResult<web::Json<Venue>> {
    caller.require(WRITERS)?;
    let changes = body.0.parse(false)?;
    change(
        &state,
        caller,
        VenueId(id.into_inner()),
        changes,
        "venue.update",
    )
    .await
}

/// Archive a venue: kept for history, offered for nothing new.
#[utoipa::path(
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Venue id")),
    responses(
        (status = 200, description = "Archived", body = Venue),
        (status = 404, description = "No such venue in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/venues/{id}/archive")]
async fn archive_venue(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Venue>> {
    caller.require(WRITERS)?;
    let changes = VenueChanges {
        active: Some(false),
        ..Default::default()
    };
    change(
        &state,
        caller,
        VenueId(id.into_inner()),
        changes,
        "venue.archive",
    )
    .await
}

async fn change(
    state: &AppState,
    caller: Caller,
    id: VenueId,
    changes: VenueChanges,
    action: &'static str,
) -> AppResult<web::Json<Venue>> {
    let row = state
        .write(move |conn| super::service::change(conn, &caller, id, changes, action))
        .await?;
    Ok(web::Json(row.into()))
}
