//! `/api/v1/sessions`: availability, one-off sessions, and cancelling,
//! moving, resizing and staffing a single session. `/api/v1/me/sessions`:
//! the sessions an instructor teaches.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use uuid::Uuid;

use super::queries::{self, SessionChanges};
use super::series_routes::context;
use super::service::{self, DEFAULT_OPENS_DAYS_BEFORE, MAX_FEE_YEN};
pub use super::sessions::answers;
use super::sessions::{audit, one, scheduled};
use super::types::{
    MoveSession, NewSession, ResizeSession, Session, SessionFilter, SessionRow, SetInstructors,
};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::db::{AccountId, SessionId, write_tx};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;
use crate::validate::{Checker, optional_text, positive, yen};
use crate::venues::types::MAX_CAPACITY;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_sessions)
        .service(my_sessions)
        .service(get_session)
        .service(create_session)
        .service(move_session)
        .service(resize_session)
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

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    filter: SessionFilter,
    instructor: Option<AccountId>,
) -> AppResult<Page<Session>> {
    let limit = pagination::limit(filter.limit)?;
    let after = parse_cursor(filter.cursor.as_deref())?;
    let app = state.clone();
    let items = state
        .db(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            let rows = queries::list_sessions(
                conn,
                caller.organisation_id,
                &filter,
                instructor,
                after,
                limit,
            )?;
            answers(conn, &ctx, rows)
        })
        .await?;
    Ok(pagination::page(items, limit, cursor_of))
}

/// Sessions with live availability, in start order (default: from now).
/// Answered from stored counters in three queries whatever the page size.
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
    caller: Caller,
    filter: web::Query<SessionFilter>,
) -> AppResult<web::Json<Page<Session>>> {
    list(state, caller, filter.into_inner(), None)
        .await
        .map(web::Json)
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
    list(state, caller, filter.into_inner(), Some(me))
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
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = context(conn, &app, &caller)?;
                let course = service::course_for(conn, ctx.organisation, req.course_id)?;
                let venue = service::venue_for(conn, ctx.organisation, req.venue_id)?;
                let instructors = service::instructors_for(
                    conn,
                    ctx.organisation,
                    req.instructor_ids.as_deref().unwrap_or(&[]),
                )?;
                let mut v = Checker::new();
                let end_time = match req.end_time {
                    Some(t) => t,
                    None => v.check(
                        "end_time",
                        service::end_after(req.start_time, course.default_length_minutes),
                    ),
                };
                let capacity = v.check(
                    "capacity",
                    positive(
                        req.capacity.unwrap_or(i64::from(venue.default_capacity)),
                        MAX_CAPACITY,
                    ),
                );
                let fee_yen = v.check(
                    "fee_yen",
                    yen(
                        req.fee_yen.unwrap_or(i64::from(course.default_fee_yen)),
                        MAX_FEE_YEN,
                    ),
                );
                let loaner_fee_yen = v.check(
                    "loaner_fee_yen",
                    yen(req.loaner_fee_yen.unwrap_or(0), MAX_FEE_YEN),
                );
                let room = match req.room.as_deref() {
                    Some(r) => v.check("room", optional_text(Some(r), 100)),
                    None => venue.room.clone(),
                };
                let opens = req
                    .booking_opens_days_before
                    .unwrap_or(i64::from(DEFAULT_OPENS_DAYS_BEFORE));
                let closes = req.booking_closes_minutes_before.unwrap_or(0);
                if !(0..=366).contains(&opens) {
                    v.fail("booking_opens_days_before", "must be between 0 and 366");
                }
                if !(0..=7 * 24 * 60).contains(&closes) {
                    v.fail(
                        "booking_closes_minutes_before",
                        "must be between 0 and 10080",
                    );
                }
                if let Err(m) = crate::validate::within_horizon(req.date) {
                    v.fail("date", m);
                }
                v.finish()?;
                let (starts_at, ends_at) =
                    service::local_span(&ctx.tz, req.date, req.start_time, end_time)?;
                let now = Utc::now().naive_utc();
                if starts_at <= now {
                    return Err(AppError::invalid_field(
                        "date",
                        "the session would start in the past",
                    ));
                }
                let row = SessionRow {
                    id: SessionId::generate(),
                    organisation_id: ctx.organisation,
                    series_id: None,
                    occurrence_date: None,
                    course_id: course.id,
                    venue_id: venue.id,
                    room,
                    starts_at,
                    ends_at,
                    capacity,
                    seats_taken: 0,
                    waitlist_count: 0,
                    status: "scheduled".into(),
                    cancel_reason: None,
                    fee_yen,
                    loaner_fee_yen,
                    booking_opens_at: Some(starts_at - Duration::days(opens)),
                    booking_closes_at: Some(starts_at - Duration::minutes(closes)),
                    waitlist_enabled: req.waitlist_enabled.unwrap_or(true),
                    detached: true,
                    created_at: now,
                    updated_at: now,
                    waitlist_seq: 0,
                };
                queries::insert_session(conn, &row)?;
                queries::set_session_instructors(conn, row.id, &instructors)?;
                audit(
                    conn,
                    &ctx,
                    "session.create",
                    row.id,
                    format!("one-off {} on {}", course.title, req.date),
                )?;
                one(conn, &ctx, row.id)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(session))
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
        .db(move |conn| {
            write_tx(conn, |conn| {
                let ctx = context(conn, &app, &caller)?;
                let row = scheduled(conn, &ctx, id)?;
                let local_start = row.starts_at.and_utc().with_timezone(&ctx.tz);
                let local_end = row.ends_at.and_utc().with_timezone(&ctx.tz);
                let date = req.date.unwrap_or(local_start.date_naive());
                crate::validate::within_horizon(date)
                    .map_err(|m| AppError::invalid_field("date", m))?;
                let start = req.start_time.unwrap_or(local_start.time());
                let end = req.end_time.unwrap_or(local_end.time());
                let (starts_at, ends_at) = service::local_span(&ctx.tz, date, start, end)?;
                if starts_at <= Utc::now().naive_utc() {
                    return Err(AppError::invalid_field(
                        "date",
                        "the session would start in the past",
                    ));
                }
                let venue = match req.venue_id {
                    Some(v) => Some(service::venue_for(conn, ctx.organisation, v)?),
                    None => None,
                };
                let room = match (&req.room, &venue) {
                    (Some(r), _) => Some(
                        optional_text(Some(r), 100)
                            .map_err(|m| AppError::invalid_field("room", m))?,
                    ),
                    (None, Some(v)) => Some(v.room.clone()),
                    (None, None) => None,
                };
                let shift = starts_at - row.starts_at;
                queries::update_session(
                    conn,
                    id,
                    SessionChanges {
                        venue_id: venue.as_ref().map(|v| v.id),
                        room,
                        starts_at: Some(starts_at),
                        ends_at: Some(ends_at),
                        booking_opens_at: Some(row.booking_opens_at.map(|t| t + shift)),
                        booking_closes_at: Some(row.booking_closes_at.map(|t| t + shift)),
                        detached: Some(true),
                        ..Default::default()
                    },
                )?;
                audit(
                    conn,
                    &ctx,
                    "session.move",
                    id,
                    format!("moved to {date} {start}–{end}"),
                )?;
                one(conn, &ctx, id)
            })
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
        .db(move |conn| {
            write_tx(conn, |conn| {
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
                audit(
                    conn,
                    &ctx,
                    "session.resize",
                    id,
                    format!("capacity {} → {capacity}", row.capacity),
                )?;
                one(conn, &ctx, id)
            })
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
        .db(move |conn| {
            write_tx(conn, |conn| {
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
                audit(
                    conn,
                    &ctx,
                    "session.instructors",
                    id,
                    format!("{} instructor(s)", instructors.len()),
                )?;
                one(conn, &ctx, id)
            })
        })
        .await?;
    Ok(web::Json(session))
}
