//! Booking endpoints: `/sessions/{id}/bookings`, `/bookings…`, the roster,
//! walk-ins, attendance and closing a session.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::group::{Groups, Request, Rules};
use super::loaners as pool;
use super::queries;
use super::reference;
use super::service;
use super::types::{
    AttendanceMarks, Booking, BookingCancelled, BookingFilter, BookingRow, BookingStatus,
    CancelBooking, NewBooking, Roster, WalkIn,
};
use crate::auth::WRITERS;
use crate::auth::access;
use crate::auth::{Bearer, Caller};
use crate::db::{BookingId, DbConnection, ResidentId, SessionId};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::idempotency::{Answer, Idempotent};
use crate::pagination::{self, Page};
use crate::residents::types::{ResidentInput, ResidentRow};
use crate::state::AppState;
use crate::validate::required_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_booking)
        .service(roster)
        .service(list_bookings)
        .service(get_booking)
        .service(cancel_booking)
        .service(resident_bookings)
        .service(walk_in)
        .service(mark_attendance)
        .service(close_session);
}

pub(crate) fn answer(conn: &mut DbConnection, row: BookingRow) -> AppResult<Booking> {
    let (row, resident) = queries::with_resident(conn, row.id)?;
    let position = queries::waitlist_position(conn, &row)?;
    let loaner = pool::label(pool::status_of(conn, row.id)?.as_deref());
    Ok(Booking::new(
        row,
        queries::resident_ref(&resident),
        position,
        loaner,
    ))
}

/// The answer for a booking named by id, if any.
pub(crate) fn answer_of(
    conn: &mut DbConnection,
    organisation: crate::db::OrganisationId,
    id: Option<BookingId>,
) -> AppResult<Option<Booking>> {
    let Some(id) = id else { return Ok(None) };
    let row =
        queries::find(conn, organisation, id)?.ok_or_else(|| AppError::not_found("booking"))?;
    answer(conn, row).map(Some)
}

/// Answers for many bookings with their residents: two more queries in all.
fn answers(
    conn: &mut DbConnection,
    rows: Vec<(BookingRow, ResidentRow)>,
) -> AppResult<Vec<Booking>> {
    let ids: Vec<BookingId> = rows.iter().map(|(b, _)| b.id).collect();
    let loaners = pool::statuses(conn, &ids)?;
    let bookings_only: Vec<BookingRow> = rows.iter().map(|(b, _)| b.clone()).collect();
    let positions = queries::waitlist_positions(conn, &bookings_only)?;
    Ok(rows
        .into_iter()
        .map(|(row, resident)| {
            let key = row.id.to_string();
            let loaner = pool::label(loaners.get(&key).map(String::as_str));
            let position = positions.get(&key).copied();
            Booking::new(row, queries::resident_ref(&resident), position, loaner)
        })
        .collect())
}

/// Book a resident into a session (staff on the phone, at the counter …).
/// A full session puts them on the waitlist with their position, unless the
/// session has no waitlist. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = NewBooking,
    responses(
        (status = 201, description = "Booked (confirmed or waitlisted)", body = Booking),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_booked`, `session_full`, `booking_not_open`, `booking_closed`, `session_not_bookable`, `no_loaner_available`, `not_eligible` or `eligibility_unknown` (with `missing`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown resident; `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/bookings")]
async fn create_booking(
    state: web::Data<AppState>,
    bearer: Bearer,
    idempotent: Idempotent,
    id: web::Path<Uuid>,
    body: ApiJson<NewBooking>,
) -> AppResult<HttpResponse> {
    let turnaround = state.settings.loaners.turnaround_minutes;
    let no_shows = service::NoShowRule {
        count: state.settings.attendance.no_show_warning_count,
        months: state.settings.attendance.no_show_months,
    };
    let session = SessionId(id.into_inner());
    let request = body.0;
    if !idempotent.has_key() {
        // With the organisation's other bookings arriving now: the caller,
        // the reads, the seat and the commit (`bookings::group`).
        let rules = Rules {
            no_shows,
            turnaround_minutes: turnaround,
        };
        let request = Request {
            bearer,
            session,
            booking: request,
        };
        let booked = Groups::book(&state, request, rules).await?;
        return Ok(HttpResponse::Created().json(created(booked)));
    }
    idempotent
        .with_body(&request)?
        .run_as(&state, bearer, WRITERS, move |conn, caller| {
            // The answer is built from what the booking read and wrote,
            // without reading it back.
            let booked = service::book(conn, caller, session, &request, turnaround, no_shows)?;
            Answer::new(StatusCode::CREATED, &created(booked))
        })
        .await
}

/// A new booking's answer, built from what it read and wrote without
/// reading it back.
fn created(booked: service::Booked) -> Booking {
    let mut answer = Booking::new(
        booked.row,
        queries::resident_ref(&booked.resident),
        booked.position,
        booked.loaner,
    );
    answer.warnings.extend(booked.warning);
    answer
}

/// A session's roster: confirmed, waitlisted (in order) and cancelled.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "The roster", body = Roster),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sessions/{id}/roster")]
async fn roster(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Roster>> {
    let id = SessionId(id.into_inner());
    let roster = state
        .db(move |conn| {
            let session = service::session_of(conn, caller.organisation_id, id)?;
            service::may_run(conn, &caller, id)?;
            let mut roster = Roster {
                session_id: id,
                capacity: session.capacity,
                seats_taken: session.seats_taken,
                confirmed: Vec::new(),
                offered: Vec::new(),
                waitlisted: Vec::new(),
                applied: Vec::new(),
                cancelled: Vec::new(),
            };
            let all = queries::of_session(conn, id)?;
            let ids: Vec<BookingId> = all.iter().map(|(b, _)| b.id).collect();
            let loaners = pool::statuses(conn, &ids)?;
            for (row, resident) in all {
                let who = queries::resident_ref(&resident);
                let loaner = pool::label(loaners.get(&row.id.to_string()).map(String::as_str));
                match row.status {
                    BookingStatus::Confirmed => {
                        roster.confirmed.push(Booking::new(row, who, None, loaner))
                    }
                    BookingStatus::Waitlisted => {
                        let position = roster.waitlisted.len() as i64 + 1;
                        roster
                            .waitlisted
                            .push(Booking::new(row, who, Some(position), loaner));
                    }
                    BookingStatus::Cancelled => {
                        roster.cancelled.push(Booking::new(row, who, None, loaner))
                    }
                    BookingStatus::Offered => {
                        roster.offered.push(Booking::new(row, who, None, loaner))
                    }
                    BookingStatus::Applied => {
                        roster.applied.push(Booking::new(row, who, None, loaner))
                    }
                }
            }
            Ok(roster)
        })
        .await?;
    Ok(web::Json(roster))
}

/// Find bookings: by the reference a resident reads out, by resident, by session.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(BookingFilter),
    responses((status = 200, description = "One page of bookings", body = Page<Booking>))
)]
#[get("/bookings")]
async fn list_bookings(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<BookingFilter>,
) -> AppResult<web::Json<Page<Booking>>> {
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    // A code that cannot exist finds nothing (not an error: it was misheard).
    let code = filter
        .reference
        .as_deref()
        .map(|raw| reference::parse(raw).unwrap_or_else(|| "-".into()));
    let items = state
        .db(move |conn| {
            let scope = desk_scope(&caller)?;
            let rows = queries::list(
                conn,
                caller.organisation_id,
                &filter,
                code.as_deref(),
                limit,
                scope,
            )?;
            answers(conn, rows)
        })
        .await?;
    Ok(web::Json(pagination::page(items, limit, |b| {
        b.id.to_string()
    })))
}

/// One booking.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, description = "The booking", body = Booking),
        (status = 404, description = "No such booking in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/bookings/{id}")]
async fn get_booking(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Booking>> {
    let id = BookingId(id.into_inner());
    let booking = state
        .db(move |conn| {
            let row = queries::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("booking"))?;
            service::may_run(conn, &caller, row.session_id)?;
            answer(conn, row)
        })
        .await?;
    Ok(web::Json(booking))
}

/// Cancel a booking. A freed seat goes to the first on the waitlist in the
/// same transaction.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body = CancelBooking,
    responses(
        (status = 200, description = "Cancelled, with the promoted booking if any", body = BookingCancelled),
        (status = 404, description = "No such booking in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/bookings/{id}/cancel")]
async fn cancel_booking(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CancelBooking>,
) -> AppResult<web::Json<BookingCancelled>> {
    caller.require(WRITERS)?;
    let reason =
        required_text(&body.0.reason, 500).map_err(|m| AppError::invalid_field("reason", m))?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let id = BookingId(id.into_inner());
    let cancelled = state
        .write(move |conn| {
            let (row, freed) = service::cancel(conn, &caller, id, &reason, turnaround, true)?;
            let booking = answer(conn, row)?;
            Ok(BookingCancelled {
                booking,
                promoted: answer_of(conn, caller.organisation_id, freed.promoted())?,
                offered: answer_of(conn, caller.organisation_id, freed.offered())?,
            })
        })
        .await?;
    Ok(web::Json(cancelled))
}

/// A resident's bookings, oldest first: their history.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Resident id")),
    responses(
        (status = 200, description = "Their bookings", body = Vec<Booking>),
        (status = 404, description = "No such resident in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/residents/{id}/bookings")]
async fn resident_bookings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Vec<Booking>>> {
    let resident = ResidentId(id.into_inner());
    let items = state
        .db(move |conn| {
            crate::residents::queries::find(conn, caller.organisation_id, resident)?
                .ok_or_else(|| AppError::not_found("resident"))?;
            let filter = BookingFilter {
                reference: None,
                resident_id: Some(resident.0),
                session_id: None,
                status: None,
                limit: None,
                cursor: None,
            };
            let scope = desk_scope(&caller)?;
            if scope.is_some() {
                access::require_full(conn, &caller, resident)?;
            }
            let rows = queries::list(conn, caller.organisation_id, &filter, None, 1000, scope)?;
            answers(conn, rows)
        })
        .await?;
    Ok(web::Json(items))
}

/// Add a walk-in: an existing resident, or a new one with names and kana
/// only. They are marked present. Beyond capacity only with `over_capacity`.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = WalkIn,
    responses(
        (status = 201, description = "Seated and marked present", body = Booking),
        (status = 403, description = "Not an instructor of this session (`not_your_session`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`session_full`, `already_booked`, or `no_loaner_available` (no device free and no `if_no_loaner` choice)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/walk-ins")]
async fn walk_in(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<WalkIn>,
) -> AppResult<HttpResponse> {
    let session = SessionId(id.into_inner());
    let req = body.0;
    let who = match (req.resident_id, &req.resident) {
        (Some(id), None) => service::WalkInWho::Registered(ResidentId(id)),
        (None, Some(r)) => service::WalkInWho::New(Box::new(
            ResidentInput {
                family_name: Some(r.family_name.clone()),
                given_name: Some(r.given_name.clone()),
                family_name_kana: Some(r.family_name_kana.clone()),
                given_name_kana: Some(r.given_name_kana.clone()),
                ..Default::default()
            }
            .parse(true)?,
        )),
        _ => {
            return Err(AppError::invalid_field(
                "resident_id",
                "give either resident_id or resident",
            ));
        }
    };
    let loaner = service::WalkInLoaner {
        needs_loaner: req.needs_loaner,
        if_none_free: req.if_no_loaner,
        turnaround_minutes: state.settings.loaners.turnaround_minutes,
    };
    let booking = state
        .write(move |conn| {
            let row =
                service::walk_in_anyone(conn, &caller, session, who, loaner, req.over_capacity)?;
            answer(conn, row)
        })
        .await?;
    Ok(HttpResponse::Created().json(booking))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    pub marked: usize,
}

/// Mark attendance (present, late, absent), one booking or many at once.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = AttendanceMarks,
    responses(
        (status = 200, description = "Marked", body = Marked),
        (status = 403, description = "Not an instructor of this session (`not_your_session`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too early (`attendance_not_open`) or the session is cancelled (`invalid_state`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A mark names no confirmed booking of this session", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/attendance")]
async fn mark_attendance(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<AttendanceMarks>,
) -> AppResult<web::Json<Marked>> {
    let session = SessionId(id.into_inner());
    let opens = state.settings.attendance.opens_minutes_before;
    let marked = state
        .write(move |conn| {
            service::session_of(conn, caller.organisation_id, session)?;
            service::may_run(conn, &caller, session)?;
            service::mark(conn, &caller, session, &body.0.marks, opens)
        })
        .await?;
    Ok(web::Json(Marked { marked }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Closed {
    pub session_id: SessionId,
    /// Confirmed bookings without a mark, now `no_show`.
    pub no_shows: usize,
}

/// Close a session: unmarked confirmed bookings become no-shows and the
/// session is completed.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "Closed", body = Closed),
        (status = 403, description = "Not an instructor of this session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not scheduled (`invalid_state`), or not started yet (`session_not_started`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/close")]
async fn close_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Closed>> {
    let session = SessionId(id.into_inner());
    let no_shows = state
        .write(move |conn| {
            service::session_of(conn, caller.organisation_id, session)?;
            service::may_run(conn, &caller, session)?;
            service::close(conn, &caller, session)
        })
        .await?;
    Ok(web::Json(Closed {
        session_id: session,
        no_shows,
    }))
}

/// Which bookings a caller's lists may hold: everything for the office
/// (`None`), the sessions they teach for an instructor; volunteers have no
/// bookings to look at.
fn desk_scope(caller: &Caller) -> AppResult<Option<crate::db::AccountId>> {
    if access::sees_everything(caller) {
        Ok(None)
    } else if caller.role == crate::auth::Role::Instructor {
        Ok(Some(caller.account_id))
    } else {
        Err(AppError::forbidden(
            "forbidden",
            "bookings are for coordinators and the instructors of the session",
        ))
    }
}
