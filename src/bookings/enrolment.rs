//! Course enrolment: one request books a resident into every remaining
//! session of a series, all seats or none; cancelling the enrolment cancels
//! its future bookings (each freed seat goes to that session's waitlist).

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::loaners as pool;
use super::queries;
use super::service::{self, Seat};
use super::types::{Booking, BookingStatus, Channel};
use crate::auth::Caller;
use crate::db::{DbConnection, SeriesId};
use crate::error::{AppError, AppResult};
use crate::schedule::queries as schedule;

#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    pub id: Uuid,
    pub series_id: SeriesId,
    pub status: String,
    /// One confirmed booking per remaining session, in date order.
    pub bookings: Vec<Booking>,
}

/// Enrols a resident in every remaining session of a series. Must run
/// inside a write transaction: any full session rolls back every seat.
pub fn enrol(
    conn: &mut DbConnection,
    caller: &Caller,
    series: SeriesId,
    resident: Uuid,
    channel: Channel,
    needs_loaner: bool,
) -> AppResult<Enrolment> {
    schedule::find_series(conn, caller.organisation_id, series)?
        .ok_or_else(|| AppError::not_found("series"))?;
    let resident = service::resident_for(conn, caller.organisation_id, resident)?;
    let remaining = schedule::remaining_sessions(conn, series)?;
    if remaining.is_empty() {
        return Err(AppError::conflict(
            "nothing_to_enrol",
            "the series has no remaining sessions",
        ));
    }
    let enrolment_id = Uuid::now_v7();
    queries::insert_enrolment(conn, enrolment_id, caller, series, resident.id)?;
    let mut booked = Vec::new();
    for session_id in remaining {
        let session = service::session_of(conn, caller.organisation_id, session_id)?;
        if queries::active_booking(conn, session.id, resident.id)?.is_some() {
            return Err(service::already_booked());
        }
        // Any full session fails the whole enrolment: the transaction rolls
        // back every seat taken so far.
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
            channel,
            needs_loaner,
            None,
            seat,
            None,
            None,
            caller.account_id,
        )?;
        queries::set_enrolment(conn, row.id, enrolment_id)?;
        booked.push(Booking::new(
            row,
            queries::resident_ref(&resident),
            None,
            pool::label(None),
        ));
    }
    crate::audit::record(
        conn,
        caller,
        "enrolment.create",
        "enrolment",
        enrolment_id,
        format!(
            "enrolled {} in {} sessions",
            resident.display_name(),
            booked.len()
        ),
    )?;
    Ok(Enrolment {
        id: enrolment_id,
        series_id: series,
        status: "active".into(),
        bookings: booked,
    })
}

/// Cancels an enrolment and its future bookings. Must run inside a write
/// transaction.
pub fn cancel(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    reason: &str,
    turnaround_minutes: i64,
) -> AppResult<Enrolment> {
    let (status, series_id) = queries::find_enrolment(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("enrolment"))?;
    if status != "active" {
        return Err(AppError::conflict(
            "invalid_transition",
            "the enrolment is already cancelled",
        ));
    }
    let mut cancelled = Vec::new();
    for booking in queries::future_bookings_of_enrolment(conn, id)? {
        let (row, _) = service::cancel(
            conn,
            caller,
            booking,
            &format!("enrolment cancelled: {reason}"),
            turnaround_minutes,
        )?;
        let (row, resident) = queries::with_resident(conn, row.id)?;
        cancelled.push(Booking::new(
            row,
            queries::resident_ref(&resident),
            None,
            pool::label(None),
        ));
    }
    queries::cancel_enrolment(conn, id, reason)?;
    Ok(Enrolment {
        id,
        series_id,
        status: "cancelled".into(),
        bookings: cancelled,
    })
}
