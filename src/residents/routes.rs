//! `/api/v1/residents`: admins and coordinators create and edit; all staff
//! read and search.

use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::queries;
use super::service;
use super::types::{Resident, ResidentDetail, ResidentFilter, ResidentInput};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::auth::access::{self, View};
use crate::db::ResidentId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_resident)
        .service(list_residents)
        .service(get_resident)
        .service(update_resident);
}

/// Register a resident.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    request_body = ResidentInput,
    responses(
        (status = 201, description = "Registered", body = Resident),
        (status = 409, description = "Possibly an existing resident (`possible_duplicate`, with `candidates`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/residents")]
async fn create_resident(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<ResidentInput>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let changes = body.0.parse(true)?;
    let confirm = body.0.confirm_new_person;
    let row = state
        .write(move |conn| {
            service::create(
                conn,
                caller.organisation_id,
                caller.account_id,
                changes,
                confirm,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(Resident::from(row)))
}

/// Find residents by name, kana (any script or width) or part of the phone.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    params(ResidentFilter),
    responses((status = 200, description = "One page of residents", body = Page<Resident>))
)]
#[get("/residents")]
async fn list_residents(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<ResidentFilter>,
) -> AppResult<web::Json<Page<Resident>>> {
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    let items = state
        .db(move |conn| {
            let rows = queries::list(conn, caller.organisation_id, &filter, limit)?;
            let ids: Vec<ResidentId> = rows.iter().map(|r| r.id).collect();
            let full = access::fully_visible(conn, &caller, &ids)?;
            Ok(rows
                .into_iter()
                .map(|row| {
                    let view = if full.contains(&row.id) {
                        View::Full
                    } else {
                        View::Limited
                    };
                    Resident::from(row).shaped(view)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(web::Json(pagination::page(items, limit, |r| {
        r.id.to_string()
    })))
}

/// One resident, with attendance and no-show counts.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The resident", body = ResidentDetail),
        (status = 404, description = "No such resident in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/residents/{id}")]
async fn get_resident(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<ResidentDetail>> {
    let id = ResidentId(id.into_inner());
    let detail = state
        .db(move |conn| {
            let row = queries::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("resident"))?;
            let (attended_count, no_show_count) = queries::attendance_counts(conn, id)?;
            let view = access::view_of(conn, &caller, id)?;
            Ok(ResidentDetail {
                resident: Resident::from(row).shaped(view),
                attended_count,
                no_show_count,
            })
        })
        .await?;
    Ok(web::Json(detail))
}

/// Change a resident's details.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Resident id")),
    request_body = ResidentInput,
    responses(
        (status = 200, description = "Updated", body = Resident),
        (status = 404, description = "No such resident in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/residents/{id}")]
async fn update_resident(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<ResidentInput>,
) -> AppResult<web::Json<Resident>> {
    caller.require(WRITERS)?;
    let changes = body.0.parse(false)?;
    let id = ResidentId(id.into_inner());
    let row = state
        .write(move |conn| service::update(conn, &caller, id, changes))
        .await?;
    Ok(web::Json(row.into()))
}
