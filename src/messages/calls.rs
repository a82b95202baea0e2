//! The call list: residents to call instead of mailing, and the outcomes
//! staff record. A call not answered comes back the next working day of its
//! venue (or of the organisation), up to `calls.max_tries`; reaching the
//! resident closes it.

use super::queries::{self, CallFilter};
use super::types::{CallItem, CallResident, CallRow, CallStatus, Outcome};
use crate::auth::Caller;
use crate::db::{DbConnection, VenueId};
use crate::error::{AppError, AppResult};

fn item(row: CallRow, who: (String, String, String, String, Option<String>)) -> CallItem {
    let (family, given, family_kana, given_kana, phone) = who;
    CallItem {
        id: row.id,
        resident: CallResident {
            id: row.resident_id,
            name: format!("{family} {given}"),
            kana: format!("{family_kana} {given_kana}"),
            phone,
        },
        reason: row.reason,
        booking_id: row.booking_id,
        ticket_id: row.ticket_id,
        venue_id: row.venue_id,
        script: row.script,
        status: row.status,
        tries: row.tries,
        due_on: row.due_on,
        last_outcome: row.last_outcome,
        last_note: row.last_note,
        created_at: row.created_at.and_utc(),
    }
}

/// The venue a caller's list is limited to: none for the office; their own
/// venue (or nothing) for volunteers and instructors.
fn scope(conn: &mut DbConnection, caller: &Caller) -> AppResult<Option<Option<VenueId>>> {
    if crate::auth::access::sees_everything(caller) {
        return Ok(None);
    }
    Ok(Some(queries::venue_of(conn, caller.account_id)?))
}

/// One page of the call list (one more item than `limit` if more follow).
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    filter: &CallFilter,
    limit: i64,
) -> AppResult<Vec<CallItem>> {
    let only = scope(conn, caller)?;
    let rows = queries::list_calls(conn, caller.organisation_id, filter, only, limit)?;
    Ok(rows.into_iter().map(|(row, who)| item(row, who)).collect())
}

/// Records how a call went. Inside a write transaction.
pub fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
    outcome: Outcome,
    note: Option<&str>,
    max_tries: i32,
) -> AppResult<CallItem> {
    let row = queries::find_call(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("call"))?;
    match scope(conn, caller)? {
        None => {}
        Some(Some(venue)) if row.venue_id == Some(venue) => {}
        // Another venue's call, or no venue: as if it did not exist.
        Some(_) => return Err(AppError::not_found("call")),
    }
    if row.status != CallStatus::Open {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("the call is already {}", row.status),
        ));
    }
    let tries = row.tries + 1;
    let (status, due_on) = match outcome {
        Outcome::Reached => (CallStatus::Done, row.due_on),
        Outcome::WrongNumber => (CallStatus::GivenUp, row.due_on),
        Outcome::NoAnswer | Outcome::Voicemail if tries >= max_tries => {
            (CallStatus::GivenUp, row.due_on)
        }
        Outcome::NoAnswer | Outcome::Voicemail => {
            let cal =
                crate::calendar::business_calendar(conn, caller.organisation_id, row.venue_id)?;
            let today = crate::calendar::today(cal.tz);
            (
                CallStatus::Open,
                cal.next_working_day(today.max(row.due_on)),
            )
        }
    };
    if !queries::record_outcome(
        conn,
        &row.id,
        row.tries,
        outcome.as_str(),
        note,
        status,
        due_on,
        caller.account_id,
    )? {
        return Err(AppError::conflict(
            "call_changed",
            "someone recorded this call at the same time: reload it",
        ));
    }
    crate::audit::record(
        conn,
        caller,
        "call.outcome",
        "call",
        row.id.clone(),
        format!("{} ({}), try {tries}: {status}", row.reason, outcome),
    )?;
    let updated = queries::find_call(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("call"))?;
    let who = crate::residents::queries::find(conn, caller.organisation_id, updated.resident_id)?
        .ok_or_else(|| AppError::not_found("resident"))?;
    Ok(item(
        updated,
        (
            who.family_name,
            who.given_name,
            who.family_name_kana,
            who.given_name_kana,
            who.phone,
        ),
    ))
}
