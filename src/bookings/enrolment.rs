//! Course enrolment: one request books a resident into every remaining
//! session of a series, all seats or none; cancelling the enrolment cancels
//! its future bookings (each freed seat goes to that session's waitlist).

use actix_web::{HttpResponse, post, web};
use chrono::Utc;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries;
use super::service::{self, Seat};
use super::types::{Booking, BookingStatus, Channel};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::db::schema::{bookings, enrolments, sessions};
use crate::db::{BookingId, DbConnection, SeriesId, SessionId, write_tx};
use crate::devices::pool;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::schedule::queries as schedule;
use crate::state::AppState;
use crate::validate::required_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(enrol).service(cancel_enrolment);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    pub resident_id: Uuid,
    pub channel: Channel,
    #[serde(default)]
    pub needs_loaner: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    pub id: Uuid,
    pub series_id: SeriesId,
    pub status: String,
    /// One confirmed booking per remaining session, in date order.
    pub bookings: Vec<Booking>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelEnrolment {
    pub reason: String,
}

/// Enrol a resident in every remaining session of a series: all seats or none.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Series id")),
    request_body = NewEnrolment,
    responses(
        (status = 201, description = "Enrolled, with one booking per session", body = Enrolment),
        (status = 404, description = "No such series in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A session is full (`session_full`), already booked, or none remain (`nothing_to_enrol`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/series/{id}/enrolments")]
async fn enrol(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<NewEnrolment>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let series = SeriesId(id.into_inner());
    let req = body.0;
    let enrolment = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                schedule::find_series(conn, caller.organisation_id, series)?
                    .ok_or_else(|| AppError::not_found("series"))?;
                let resident =
                    service::resident_for(conn, caller.organisation_id, req.resident_id)?;
                let remaining: Vec<SessionId> = sessions::table
                    .filter(sessions::series_id.eq(series))
                    .filter(sessions::status.eq("scheduled"))
                    .filter(sessions::starts_at.gt(Utc::now().naive_utc()))
                    .order(sessions::starts_at.asc())
                    .select(sessions::id)
                    .load(conn)?;
                if remaining.is_empty() {
                    return Err(AppError::conflict(
                        "nothing_to_enrol",
                        "the series has no remaining sessions",
                    ));
                }
                let enrolment_id = Uuid::now_v7();
                diesel::insert_into(enrolments::table)
                    .values((
                        enrolments::id.eq(enrolment_id.to_string()),
                        enrolments::organisation_id.eq(caller.organisation_id),
                        enrolments::series_id.eq(series),
                        enrolments::resident_id.eq(resident.id),
                        enrolments::status.eq("active"),
                        enrolments::entered_by.eq(caller.account_id.to_string()),
                        enrolments::created_at.eq(Utc::now().naive_utc()),
                    ))
                    .execute(conn)?;
                let mut booked = Vec::new();
                for session_id in remaining {
                    let session = service::session_of(conn, caller.organisation_id, session_id)?;
                    if queries::active_booking(conn, session.id, resident.id)?.is_some() {
                        return Err(service::already_booked());
                    }
                    // Any full session fails the whole enrolment: the
                    // transaction rolls back every seat taken so far.
                    if !queries::take_seat(conn, session.id)? {
                        return Err(AppError::conflict(
                            "session_full",
                            format!("the session {} is full: nobody was enrolled", session.id),
                        ));
                    }
                    let seat = Seat {
                        status: BookingStatus::Confirmed,
                        waitlist_seq: None,
                        over_capacity: false,
                    };
                    let row = service::insert_booking(
                        conn,
                        &session,
                        &resident,
                        req.channel,
                        req.needs_loaner,
                        None,
                        seat,
                        None,
                        None,
                        caller.account_id,
                    )?;
                    diesel::update(bookings::table.filter(bookings::id.eq(row.id)))
                        .set(bookings::enrolment_id.eq(enrolment_id.to_string()))
                        .execute(conn)?;
                    booked.push(Booking::new(
                        row,
                        queries::resident_ref(&resident),
                        None,
                        pool::label(None),
                    ));
                }
                crate::audit::record(
                    conn,
                    crate::audit::AuditEntry {
                        organisation_id: caller.organisation_id,
                        actor_id: Some(caller.account_id),
                        action: "enrolment.create",
                        entity: "enrolment",
                        entity_id: enrolment_id.to_string(),
                        summary: format!(
                            "enrolled {} in {} sessions",
                            resident.display_name(),
                            booked.len()
                        ),
                    },
                )?;
                Ok(Enrolment {
                    id: enrolment_id,
                    series_id: series,
                    status: "active".into(),
                    bookings: booked,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(enrolment))
}

fn future_bookings(conn: &mut DbConnection, enrolment: &str) -> QueryResult<Vec<BookingId>> {
    bookings::table
        .inner_join(sessions::table)
        .filter(bookings::enrolment_id.eq(enrolment))
        .filter(bookings::status.ne("cancelled"))
        .filter(sessions::starts_at.gt(Utc::now().naive_utc()))
        .select(bookings::id)
        .load::<BookingId>(conn)
}

/// Cancel an enrolment and its future bookings.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Enrolment id")),
    request_body = CancelEnrolment,
    responses(
        (status = 200, description = "Cancelled, with the bookings cancelled", body = Enrolment),
        (status = 404, description = "No such enrolment in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/enrolments/{id}/cancel")]
async fn cancel_enrolment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CancelEnrolment>,
) -> AppResult<web::Json<Enrolment>> {
    caller.require(WRITERS)?;
    let reason =
        required_text(&body.0.reason, 500).map_err(|m| AppError::invalid_field("reason", m))?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let id = id.into_inner();
    let enrolment = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let found: Option<(String, SeriesId)> = enrolments::table
                    .filter(enrolments::organisation_id.eq(caller.organisation_id))
                    .filter(enrolments::id.eq(id.to_string()))
                    .select((enrolments::status, enrolments::series_id))
                    .first(conn)
                    .optional()?;
                let (status, series_id) = found.ok_or_else(|| AppError::not_found("enrolment"))?;
                if status != "active" {
                    return Err(AppError::conflict(
                        "invalid_transition",
                        "the enrolment is already cancelled",
                    ));
                }
                let mut cancelled = Vec::new();
                for booking in future_bookings(conn, &id.to_string())? {
                    let (row, _) = service::cancel(
                        conn,
                        &caller,
                        booking,
                        &format!("enrolment cancelled: {reason}"),
                        turnaround,
                    )?;
                    let (row, resident) = queries::with_resident(conn, row.id)?;
                    cancelled.push(Booking::new(
                        row,
                        queries::resident_ref(&resident),
                        None,
                        pool::label(None),
                    ));
                }
                diesel::update(enrolments::table.filter(enrolments::id.eq(id.to_string())))
                    .set((
                        enrolments::status.eq("cancelled"),
                        enrolments::cancel_reason.eq(&reason),
                        enrolments::cancelled_at.eq(Utc::now().naive_utc()),
                    ))
                    .execute(conn)?;
                Ok(Enrolment {
                    id,
                    series_id,
                    status: "cancelled".into(),
                    bookings: cancelled,
                })
            })
        })
        .await?;
    Ok(web::Json(enrolment))
}
