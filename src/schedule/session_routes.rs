//! `/api/v1/sessions`: availability, one-off sessions, and cancelling,
//! moving, resizing and staffing a single session. `/api/v1/me/sessions`:
//! the sessions an instructor teaches.

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use uuid::Uuid;

use super::queries::{self, SessionChanges};
use super::series_routes::context;
use super::service::{self};
pub use super::sessions::answers;
use super::sessions::{self, one, scheduled};
use super::types::{
    MoveSession, NewSession, ResizeSession, Session, SessionFilter, SetAllocation, SetInstructors,
};
use crate::auth::WRITERS;
use crate::auth::{Bearer, Caller};
use crate::db::{AccountId, DbConnection, SessionId};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;
use crate::validate::positive;
use crate::venues::types::MAX_CAPACITY;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_sessions)
        .service(my_sessions)
        .service(get_session)
        .service(create_session)
        .service(move_session)
        .service(resize_session)
        .service(set_allocation)
        .service(set_instructors);
}

fn parse_cursor(cursor: Option<&str>) -> AppResult<Option<(NaiveDateTime, SessionId)>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let parsed = cursor.split_once('.').and_then(|(micros, id)| {
        let at = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        Some((at, SessionId(id.parse().ok()?)))
    });
    parsed
        .map(Some)
        .ok_or_else(|| AppError::invalid_field("cursor", "is not a cursor from this list"))
}

fn cursor_of(s: &Session) -> String {
    format!("{}.{}", s.starts_at.timestamp_micros(), s.id)
}

/// One page of sessions as the list answers it (`instructor`: only theirs).
fn list(
    conn: &mut DbConnection,
    state: &AppState,
    caller: &Caller,
    mut filter: SessionFilter,
    instructor: Option<AccountId>,
) -> AppResult<Page<Session>> {
    let limit = pagination::limit(filter.limit)?;
    let after = parse_cursor(filter.cursor.as_deref())?;
    let ctx = context(conn, state, caller)?;
    crate::calendar::instant::resolve(&mut filter.from, &mut filter.to, ctx.tz);
    let rows = queries::list_sessions(
        conn,
        caller.organisation_id,
        &filter,
        instructor,
        after,
        limit,
    )?;
    let items = answers(conn, &ctx, rows)?;
    Ok(pagination::page(items, limit, cursor_of))
}

/// Sessions with live availability, in start order (default: from now).
/// Answered from stored counters in three queries whatever the page size;
/// the same page asked again within `schedule.list_cache_ms` is answered
/// from memory unless this instance has written since
/// (`schedule::list_cache`).
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(SessionFilter),
    responses(
        (status = 200, description = "One page of sessions", body = Page<Session>),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sessions")]
async fn list_sessions(
    state: web::Data<AppState>,
    bearer: Bearer,
    req: HttpRequest,
    filter: web::Query<SessionFilter>,
) -> AppResult<HttpResponse> {
    let filter = filter.into_inner();
    // Checked here so a bad page size or cursor is a 422 before any work.
    pagination::limit(filter.limit)?;
    parse_cursor(filter.cursor.as_deref())?;
    let query = req.query_string().to_owned();
    let app = state.clone();
    let body = state
        .db(move |conn| {
            let caller = bearer.caller(conn)?;
            let cache = &app.list_cache;
            let org = caller.organisation_id;
            if let Some(page) = cache.get(org, &query) {
                return Ok(page);
            }
            let writes = crate::db::writes_committed();
            let page = list(conn, &app, &caller, filter, None)?;
            let body = Bytes::from(serde_json::to_vec(&page).map_err(anyhow::Error::from)?);
            cache.put(org, &query, writes, body.clone());
            Ok(body)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

/// The sessions the caller teaches.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(SessionFilter),
    responses((status = 200, description = "One page of sessions", body = Page<Session>))
)]
#[get("/me/sessions")]
async fn my_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<SessionFilter>,
) -> AppResult<web::Json<Page<Session>>> {
    let me = caller.account_id;
    let filter = filter.into_inner();
    let app = state.clone();
    state
        .db(move |conn| list(conn, &app, &caller, filter, Some(me)))
        .await
        .map(web::Json)
}

/// One session.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = Session),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sessions/{id}")]
async fn get_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Session>> {
    let id = SessionId(id.into_inner());
    let app = state.clone();
    let session = state
        .db(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            one(conn, &ctx, id)
        })
        .await?;
    Ok(web::Json(session))
}

/// Create a one-off session (no series).
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    request_body = NewSession,
    responses(
        (status = 201, description = "Created", body = Session),
        (status = 422, description = "Invalid fields, unknown course/venue/instructor, or a start in the past", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions")]
async fn create_session(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewSession>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let req = body.0;
    let app = state.clone();
    let session = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            sessions::create_one_off(conn, &ctx, &req)
        })
        .await?;
    Ok(HttpResponse::Created().json(session))
}

/// Change how a session's seats are given out: first come or a lottery
/// (applications until `applications_close_at`, a draw at `draw_at`), and
/// how long a freed seat is held (`offer_hours`). The allocation changes
/// only before the draw; `offer_hours` at any time.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = SetAllocation,
    responses(
        (status = 200, description = "Changed", body = Session),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already drawn (`already_drawn`), applications waiting (`has_applications`), first-come bookings (`has_bookings`) or not scheduled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/allocation")]
async fn set_allocation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<SetAllocation>,
) -> AppResult<web::Json<Session>> {
    caller.require(WRITERS)?;
    let id = SessionId(id.into_inner());
    let input = body.0.rules();
    let app = state.clone();
    let session = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            sessions::set_allocation(conn, &ctx, id, &input)
        })
        .await?;
    Ok(web::Json(session))
}

/// Loads a scheduled session of the caller's organisation for a change.
/// Move a session to another date, time or venue. It is then managed on its
/// own: later edits of its series leave it alone.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = MoveSession,
    responses(
        (status = 200, description = "Moved", body = Session),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not scheduled (`invalid_state`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/move")]
async fn move_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<MoveSession>,
) -> AppResult<web::Json<Session>> {
    caller.require(WRITERS)?;
    let id = SessionId(id.into_inner());
    let req = body.0;
    let app = state.clone();
    let session = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            sessions::move_session(conn, &ctx, id, &req)
        })
        .await?;
    Ok(web::Json(session))
}

/// Change a session's capacity; never below its confirmed bookings.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = ResizeSession,
    responses(
        (status = 200, description = "Resized", body = Session),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Below the confirmed count (`capacity_below_booked`) or not scheduled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Capacity out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/resize")]
async fn resize_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<ResizeSession>,
) -> AppResult<web::Json<Session>> {
    caller.require(WRITERS)?;
    let capacity = positive(body.0.capacity, MAX_CAPACITY)
        .map_err(|m| AppError::invalid_field("capacity", m))?;
    let id = SessionId(id.into_inner());
    let app = state.clone();
    let session = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            let row = scheduled(conn, &ctx, id)?;
            if !queries::resize_session(conn, id, capacity)? {
                let booked = queries::find_session(conn, ctx.organisation, id)?
                    .map_or(row.seats_taken, |r| r.seats_taken);
                return Err(AppError::conflict(
                    "capacity_below_booked",
                    format!("{booked} seats are booked: the capacity cannot go below {booked}"),
                ));
            }
            crate::audit::record(
                conn,
                &ctx,
                "session.resize",
                "session",
                id,
                format!("capacity {} → {capacity}", row.capacity),
            )?;
            one(conn, &ctx, id)
        })
        .await?;
    Ok(web::Json(session))
}

/// Replace a session's instructors.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = SetInstructors,
    responses(
        (status = 200, description = "Saved", body = Session),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or inactive instructor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/instructors")]
async fn set_instructors(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<SetInstructors>,
) -> AppResult<web::Json<Session>> {
    caller.require(WRITERS)?;
    let id = SessionId(id.into_inner());
    let app = state.clone();
    let session = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            queries::find_session(conn, ctx.organisation, id)?
                .ok_or_else(|| AppError::not_found("session"))?;
            let instructors =
                service::instructors_for(conn, ctx.organisation, &body.0.instructor_ids)?;
            queries::set_session_instructors(conn, id, &instructors)?;
            queries::update_session(
                conn,
                id,
                SessionChanges {
                    detached: Some(true),
                    ..Default::default()
                },
            )?;
            crate::audit::record(
                conn,
                &ctx,
                "session.instructors",
                "session",
                id,
                format!("{} instructor(s)", instructors.len()),
            )?;
            one(conn, &ctx, id)
        })
        .await?;
    Ok(web::Json(session))
}
