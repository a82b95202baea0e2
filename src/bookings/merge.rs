//! Merging two records of the same person: the duplicate's bookings (with
//! their attendance) move to the survivor, a double booking of one session
//! keeps one seat, missing contact details are filled from the duplicate,
//! and the duplicate points to the survivor. It lives with bookings because
//! bookings are what it moves.

use super::queries;
use super::service;
use crate::auth::Caller;
use crate::db::{DbConnection, ResidentId};
use crate::error::{AppError, AppResult};
use crate::residents::queries as residents;
use crate::residents::types::ResidentRow;

/// What a merge did.
pub struct Merged {
    pub survivor: ResidentRow,
    pub moved: usize,
    pub cancelled: usize,
}

/// Merges `duplicate` into `survivor`. Must run inside a write transaction.
pub fn merge(
    conn: &mut DbConnection,
    caller: &Caller,
    survivor: ResidentId,
    duplicate: ResidentId,
    turnaround_minutes: i64,
) -> AppResult<Merged> {
    let organisation = caller.organisation_id;
    let survivor = residents::find(conn, organisation, survivor)?
        .ok_or_else(|| AppError::not_found("resident"))?;
    let duplicate = residents::find(conn, organisation, duplicate)?
        .ok_or_else(|| AppError::not_found("resident"))?;
    if survivor.id == duplicate.id
        || survivor.merged_into.is_some()
        || duplicate.merged_into.is_some()
    {
        return Err(AppError::conflict(
            "invalid_merge",
            "merge two different records that are not merged already",
        ));
    }
    let (mut moved, mut cancelled) = (0, 0);
    for booking in queries::of_resident(conn, duplicate.id)? {
        let clash = booking.status != crate::bookings::types::BookingStatus::Cancelled
            && queries::active_booking(conn, booking.session_id, survivor.id)?.is_some();
        if clash {
            // Both records were booked into the same session: keep one seat.
            service::cancel(
                conn,
                caller,
                booking.id,
                "duplicate record merged",
                turnaround_minutes,
                false,
            )?;
            cancelled += 1;
        }
        queries::move_to_resident(conn, booking.id, survivor.id)?;
        moved += 1;
    }
    residents::fill_from(conn, &survivor, &duplicate)?;
    residents::mark_merged(conn, duplicate.id, survivor.id)?;
    crate::audit::record(
        conn,
        caller,
        "resident.merge",
        "resident",
        survivor.id,
        format!(
            "merged {} into this record: {moved} booking(s) moved, {cancelled} double booking(s) cancelled",
            duplicate.id
        ),
    )?;
    let survivor = residents::find(conn, organisation, survivor.id)?
        .ok_or_else(|| AppError::not_found("resident"))?;
    Ok(Merged {
        survivor,
        moved,
        cancelled,
    })
}
