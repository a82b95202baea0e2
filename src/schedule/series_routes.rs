//! `/api/v1/series`: recurring schedules. Creating or editing a series
//! answers what happened to its sessions.

use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::queries;
use super::service::{self, Context};
use super::types::{Series, SeriesFilter, SeriesInput, SeriesRow, SeriesSaved};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::db::{AccountId, DbConnection, OrganisationId, SeriesId};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_series)
        .service(list_series)
        .service(get_series)
        .service(update_series);
}

/// The schedule context of the caller's organisation.
pub fn context(conn: &mut DbConnection, state: &AppState, caller: &Caller) -> AppResult<Context> {
    org_context(conn, state, caller.organisation_id, Some(caller.account_id))
}

/// The schedule context of an organisation, for `actor` (`None`: the system).
pub fn org_context(
    conn: &mut DbConnection,
    state: &AppState,
    organisation: OrganisationId,
    actor: Option<AccountId>,
) -> AppResult<Context> {
    Ok(Context {
        organisation,
        actor,
        tz: crate::calendar::timezone(conn, organisation)?,
        horizon_days: state.settings.schedule.horizon_days,
        max_sessions: state.settings.schedule.max_sessions_per_series,
        loaner_turnaround_minutes: state.settings.loaners.turnaround_minutes,
        on_sessions_added: state.on_sessions_added,
        on_session_moved: state.on_session_moved,
    })
}

fn answer(conn: &mut DbConnection, ctx: &Context, row: SeriesRow) -> AppResult<Series> {
    let instructors = queries::series_instructor_ids(conn, row.id)?;
    let exceptions = queries::exception_dates(conn, row.id)?;
    Ok(Series::new(row, ctx.tz.name(), instructors, exceptions))
}

/// Create a series; its sessions are stored up to the scheduling horizon.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    request_body = SeriesInput,
    responses(
        (status = 201, description = "Created, with the sessions added", body = SeriesSaved),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an invalid RRULE, unknown course/venue/instructor, or too many sessions (`too_many_sessions`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/series")]
async fn create_series(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<SeriesInput>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let app = state.clone();
    let saved = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            let (row, report) = service::save_series(conn, &ctx, None, body.0)?;
            Ok(SeriesSaved {
                series: answer(conn, &ctx, row)?,
                sessions: report,
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(saved))
}

/// List series.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(SeriesFilter),
    responses((status = 200, description = "One page of series", body = Page<Series>))
)]
#[get("/series")]
async fn list_series(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<SeriesFilter>,
) -> AppResult<web::Json<Page<Series>>> {
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    let app = state.clone();
    let items = state
        .db(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            let rows = queries::list_series(conn, caller.organisation_id, &filter, limit)?;
            rows.into_iter()
                .map(|r| answer(conn, &ctx, r))
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    Ok(web::Json(pagination::page(items, limit, |s| {
        s.id.to_string()
    })))
}

/// One series.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Series id")),
    responses(
        (status = 200, description = "The series", body = Series),
        (status = 404, description = "No such series in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/series/{id}")]
async fn get_series(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Series>> {
    let id = SeriesId(id.into_inner());
    let app = state.clone();
    let series = state
        .db(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            let row = queries::find_series(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("series"))?;
            answer(conn, &ctx, row)
        })
        .await?;
    Ok(web::Json(series))
}

/// Edit a series. Its future sessions follow, except sessions with bookings,
/// which are never moved or deleted by an edit: the answer lists every
/// session added, updated, removed or kept (with the reason).
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Series id")),
    request_body = SeriesInput,
    responses(
        (status = 200, description = "Saved, with what happened to the sessions", body = SeriesSaved),
        (status = 404, description = "No such series in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/series/{id}")]
async fn update_series(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<SeriesInput>,
) -> AppResult<web::Json<SeriesSaved>> {
    caller.require(WRITERS)?;
    let id = SeriesId(id.into_inner());
    let app = state.clone();
    let saved = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            let (row, report) = service::save_series(conn, &ctx, Some(id), body.0)?;
            Ok(SeriesSaved {
                series: answer(conn, &ctx, row)?,
                sessions: report,
            })
        })
        .await?;
    Ok(web::Json(saved))
}
