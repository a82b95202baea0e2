//! `/api/v1/programmes`: the handlers; the rules are in `programmes`.

use actix_web::{HttpResponse, get, post, web};
use uuid::Uuid;

use super::programmes::{self, DEFAULT_MIN_CELL, NewProgramme, NewViewer, Programme, RollupQuery};
use super::rollup::Rollup;
use crate::auth::{Caller, Role};
use crate::db::{AccountId, ProgrammeId};
use crate::error::{AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::{Checker, required_text};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_programme)
        .service(list_programmes)
        .service(add_viewer)
        .service(join)
        .service(withdraw)
        .service(programme_summary);
}

/// Create a programme run by the caller's organisation (admins); the
/// creator becomes its first viewer.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    request_body = NewProgramme,
    responses(
        (status = 201, description = "Created", body = Programme),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/programmes")]
async fn create_programme(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewProgramme>,
) -> AppResult<HttpResponse> {
    caller.require(&[Role::Admin])?;
    let mut v = Checker::new();
    let name = v.check("name", required_text(&body.0.name, 200));
    let k = body.0.min_cell_size.unwrap_or(DEFAULT_MIN_CELL);
    if !(2..=20).contains(&k) {
        v.fail("min_cell_size", "must be between 2 and 20");
    }
    v.finish()?;
    let made = state
        .write(move |conn| programmes::create(conn, &caller, &name, k))
        .await?;
    Ok(HttpResponse::Created().json(made))
}

/// Programmes the caller's organisation runs or belongs to, or the caller
/// views.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    responses((status = 200, description = "The programmes", body = Vec<Programme>))
)]
#[get("/programmes")]
async fn list_programmes(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<Vec<Programme>>> {
    let list = state
        .db(move |conn| programmes::list(conn, &caller))
        .await?;
    Ok(web::Json(list))
}

/// Let a colleague of the programme office see the roll-up (its admins).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Programme id")),
    request_body = NewViewer,
    responses(
        (status = 200, description = "Granted", body = Programme),
        (status = 403, description = "Not an admin of the programme office", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an active account of the programme office", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/programmes/{id}/viewers")]
async fn add_viewer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<NewViewer>,
) -> AppResult<web::Json<Programme>> {
    caller.require(&[Role::Admin])?;
    let id = ProgrammeId(id.into_inner());
    let account = AccountId(body.0.account_id);
    let out = state
        .write(move |conn| programmes::add_viewer(conn, &caller, id, account))
        .await?;
    Ok(web::Json(out))
}

/// Join a programme: its viewers will see this organisation's figures, never
/// a person (admins of the joining organisation).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Programme id")),
    responses(
        (status = 200, description = "A member", body = Programme),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/programmes/{id}/membership")]
async fn join(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Programme>> {
    caller.require(&[Role::Admin])?;
    let id = ProgrammeId(id.into_inner());
    let out = state
        .write(move |conn| programmes::join(conn, &caller, id))
        .await?;
    Ok(web::Json(out))
}

/// Withdraw from a programme: its viewers no longer see this organisation.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Programme id")),
    responses(
        (status = 200, description = "No longer a member", body = Programme),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/programmes/{id}/membership/withdraw")]
async fn withdraw(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Programme>> {
    caller.require(&[Role::Admin])?;
    let id = ProgrammeId(id.into_inner());
    let out = state
        .write(move |conn| programmes::withdraw(conn, &caller, id))
        .await?;
    Ok(web::Json(out))
}

/// The programme's roll-up for a period: each member's figures and the
/// total, numbers and shared vocabularies only, small people counts as
/// ranges. For the programme's viewers only.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Programme id"), RollupQuery),
    responses(
        (status = 200, description = "The roll-up", body = Rollup),
        (status = 403, description = "Not a viewer of the programme", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid period", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/programmes/{id}/summary")]
async fn programme_summary(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: web::Query<RollupQuery>,
) -> AppResult<web::Json<Rollup>> {
    let id = ProgrammeId(id.into_inner());
    let q = q.into_inner();
    super::routes::check_period(q.from, q.to)?;
    let out = state
        .db(move |conn| programmes::summary_for(conn, &caller, id, q.from, q.to))
        .await?;
    Ok(web::Json(out))
}
