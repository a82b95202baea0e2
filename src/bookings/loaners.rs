//! The loaner pool of a venue: a booking that needs a loaner reserves one of
//! the venue's devices for its session's time plus a turnaround buffer. The
//! venue row is locked while counting, so the pool is never over-reserved,
//! whatever the concurrency.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{bookings, devices, loaner_reservations, loans, sessions};
use crate::db::{BookingId, DbConnection, SessionId, VenueId};
use crate::schedule::types::SessionRow;

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Whether one more device of the venue is free for `[from, to)`.
/// Conservative: every reservation or take-home loan overlapping the window
/// counts, even if they do not overlap each other.
fn has_free_device(
    conn: &mut DbConnection,
    venue: VenueId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<bool> {
    let pool: i64 = devices::table
        .filter(devices::home_venue_id.eq(venue))
        // `bookings` sits below `devices`: the stored texts of
        // `DeviceStatus::Available` and `DeviceStatus::Loaned`.
        .filter(devices::status.eq_any(["available", "loaned"]))
        .count()
        .get_result(conn)?;
    let reserved: i64 = loaner_reservations::table
        .filter(loaner_reservations::venue_id.eq(venue))
        .filter(loaner_reservations::status.eq_any(["reserved", "out"]))
        .filter(loaner_reservations::starts_at.lt(to))
        .filter(loaner_reservations::ends_at.gt(from))
        .count()
        .get_result(conn)?;
    let at_home: i64 = loans::table
        .inner_join(devices::table)
        .filter(devices::home_venue_id.eq(venue))
        .filter(loans::booking_id.is_null())
        .filter(loans::returned_at.is_null())
        .filter(loans::lent_at.lt(to))
        .filter(loans::due_at.gt(from))
        .count()
        .get_result(conn)?;
    Ok(reserved + at_home < pool)
}

fn window(session: &SessionRow, turnaround_minutes: i64) -> (NaiveDateTime, NaiveDateTime) {
    let buffer = Duration::minutes(turnaround_minutes);
    (session.starts_at - buffer, session.ends_at + buffer)
}

/// Whether a device could be reserved for this session now (locks the venue
/// until the transaction ends).
pub fn available_for(
    conn: &mut DbConnection,
    session: &SessionRow,
    turnaround_minutes: i64,
) -> QueryResult<bool> {
    crate::db::locks::venue(conn, session.venue_id)?;
    let (from, to) = window(session, turnaround_minutes);
    has_free_device(conn, session.venue_id, from, to)
}

/// Whether one more device of the venue is free for `[from, to)` (locks
/// the venue until the transaction ends).
pub fn available_between(
    conn: &mut DbConnection,
    venue: VenueId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<bool> {
    crate::db::locks::venue(conn, venue)?;
    has_free_device(conn, venue, from, to)
}

/// Records a booking's loaner claim: `reserved` or `waitlisted`.
pub fn record(
    conn: &mut DbConnection,
    session: &SessionRow,
    booking: BookingId,
    status: &str,
    turnaround_minutes: i64,
) -> QueryResult<()> {
    let (from, to) = window(session, turnaround_minutes);
    diesel::insert_into(loaner_reservations::table)
        .values((
            loaner_reservations::booking_id.eq(booking),
            loaner_reservations::venue_id.eq(session.venue_id),
            loaner_reservations::starts_at.eq(from),
            loaner_reservations::ends_at.eq(to),
            loaner_reservations::status.eq(status),
            loaner_reservations::created_at.eq(now()),
            loaner_reservations::updated_at.eq(now()),
        ))
        .execute(conn)?;
    sync_fee(conn, booking)
}

/// Sets what is due on a booking from its loaner claim: the class fee,
/// plus the loaner fee while a device is reserved for it, lent, or was
/// lent (`returned`); never for a claim waiting for a device or released.
fn sync_fee(conn: &mut DbConnection, booking: BookingId) -> QueryResult<()> {
    let charged = matches!(
        status_of(conn, booking)?.as_deref(),
        Some("reserved" | "out" | "returned")
    );
    let (class, loaner): (i32, i32) = bookings::table
        .filter(bookings::id.eq(booking))
        .select((bookings::class_fee_yen, bookings::loaner_fee_yen))
        .first(conn)?;
    diesel::update(bookings::table.filter(bookings::id.eq(booking)))
        .set(bookings::fee_due_yen.eq(class + if charged { loaner } else { 0 }))
        .execute(conn)
        .map(|_| ())
}

pub fn status_of(conn: &mut DbConnection, booking: BookingId) -> QueryResult<Option<String>> {
    loaner_reservations::table
        .filter(loaner_reservations::booking_id.eq(booking))
        .select(loaner_reservations::status)
        .first(conn)
        .optional()
}

pub fn set_status(conn: &mut DbConnection, booking: BookingId, status: &str) -> QueryResult<()> {
    diesel::update(loaner_reservations::table.filter(loaner_reservations::booking_id.eq(booking)))
        .set((
            loaner_reservations::status.eq(status),
            loaner_reservations::updated_at.eq(now()),
        ))
        .execute(conn)?;
    sync_fee(conn, booking)
}

/// Releases a cancelled booking's claim, then gives a freed device to the
/// earliest waitlisted loaner request of a confirmed booking at the venue
/// that now fits. Returns the booking that got a device.
pub fn release(
    conn: &mut DbConnection,
    booking: BookingId,
    session: &SessionRow,
) -> QueryResult<Option<BookingId>> {
    let held = status_of(conn, booking)?;
    if !matches!(held.as_deref(), Some("reserved" | "waitlisted")) {
        return Ok(None);
    }
    set_status(conn, booking, "released")?;
    if held.as_deref() != Some("reserved") {
        return Ok(None);
    }
    Ok(promote_waiting(conn, session.venue_id)?.into_iter().next())
}

/// Gives free devices of the venue to waitlisted loaner requests of
/// confirmed bookings, earliest request first, while they fit. Call when a
/// device frees up (a cancellation, a return, back from maintenance).
pub fn promote_waiting(conn: &mut DbConnection, venue: VenueId) -> QueryResult<Vec<BookingId>> {
    crate::db::locks::venue(conn, venue)?;
    let waiting: Vec<(String, NaiveDateTime, NaiveDateTime)> = loaner_reservations::table
        .inner_join(bookings::table.on(bookings::id.eq(loaner_reservations::booking_id)))
        .filter(loaner_reservations::venue_id.eq(venue))
        .filter(loaner_reservations::status.eq("waitlisted"))
        .filter(bookings::status.eq(crate::bookings::types::BookingStatus::Confirmed))
        .filter(loaner_reservations::ends_at.gt(now()))
        .order(loaner_reservations::created_at.asc())
        .select((
            loaner_reservations::booking_id,
            loaner_reservations::starts_at,
            loaner_reservations::ends_at,
        ))
        .load(conn)?;
    let mut promoted = Vec::new();
    for (waiting_booking, from, to) in waiting {
        let Ok(uuid) = waiting_booking.parse() else {
            continue;
        };
        if has_free_device(conn, venue, from, to)? {
            set_status(conn, BookingId(uuid), "reserved")?;
            promoted.push(BookingId(uuid));
        }
    }
    Ok(promoted)
}

/// After a waitlisted seat is promoted: try to turn its loaner claim into a
/// reservation.
pub fn on_promotion(
    conn: &mut DbConnection,
    booking: BookingId,
    session_id: SessionId,
    turnaround_minutes: i64,
) -> QueryResult<()> {
    if status_of(conn, booking)?.as_deref() != Some("waitlisted") {
        return Ok(());
    }
    let session: SessionRow = sessions::table
        .filter(sessions::id.eq(session_id))
        .select(SessionRow::as_select())
        .first(conn)?;
    if available_for(conn, &session, turnaround_minutes)? {
        set_status(conn, booking, "reserved")?;
    }
    Ok(())
}

/// Loaner states of many bookings in one query (booking id → status).
pub fn statuses(
    conn: &mut DbConnection,
    ids: &[BookingId],
) -> QueryResult<std::collections::HashMap<String, String>> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows: Vec<(String, String)> = loaner_reservations::table
        .filter(loaner_reservations::booking_id.eq_any(keys))
        .select((loaner_reservations::booking_id, loaner_reservations::status))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The `loaner` field of a booking answer.
pub fn label(status: Option<&str>) -> String {
    match status {
        Some(s @ ("reserved" | "waitlisted" | "out" | "returned")) => s.to_owned(),
        _ => "none".to_owned(),
    }
}

/// Releases every claim of a session's bookings (the session was cancelled).
pub fn release_session(conn: &mut DbConnection, session: SessionId) -> QueryResult<()> {
    let ids: Vec<BookingId> = bookings::table
        .filter(bookings::session_id.eq(session))
        .select(bookings::id)
        .load(conn)?;
    let held: Vec<BookingId> = loaner_reservations::table
        .filter(loaner_reservations::booking_id.eq_any(&ids))
        .filter(loaner_reservations::status.eq_any(["reserved", "waitlisted"]))
        .select(loaner_reservations::booking_id)
        .load(conn)?;
    for booking in held {
        set_status(conn, booking, "released")?;
    }
    Ok(())
}
