//! Row locks that serialise a check and the write it guards, in one place.
//! Each is a no-op `UPDATE` of the row, held until the transaction ends: on
//! PostgreSQL a row lock, on SQLite already implied by `BEGIN IMMEDIATE`.
//! Take them in this order to stay clear of deadlocks: series → session →
//! booking → venue → organisation.

use diesel::prelude::*;

use super::schema::{bookings, organisations, series, sessions, venues};
use super::{BookingId, DbConnection, OrganisationId, SeriesId, SessionId, VenueId};

/// A series: its sessions are synchronised one edit at a time.
pub fn series(conn: &mut DbConnection, id: SeriesId) -> QueryResult<()> {
    diesel::update(series::table.filter(series::id.eq(id)))
        .set(series::updated_at.eq(series::updated_at))
        .execute(conn)
        .map(|_| ())
}

/// A session: every change to its bookings and seat counters.
pub fn session(conn: &mut DbConnection, id: SessionId) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set(sessions::updated_at.eq(sessions::updated_at))
        .execute(conn)
        .map(|_| ())
}

/// A booking: its money (payments and refunds) is checked and written one
/// at a time.
pub fn booking(conn: &mut DbConnection, id: BookingId) -> QueryResult<()> {
    diesel::update(bookings::table.filter(bookings::id.eq(id)))
        .set(bookings::updated_at.eq(bookings::updated_at))
        .execute(conn)
        .map(|_| ())
}

/// A venue: its loaner pool is counted and reserved one at a time.
pub fn venue(conn: &mut DbConnection, id: VenueId) -> QueryResult<()> {
    diesel::update(venues::table.filter(venues::id.eq(id)))
        .set(venues::updated_at.eq(venues::updated_at))
        .execute(conn)
        .map(|_| ())
}

/// An organisation: checks that span many rows (the last admin, receipt
/// numbers, queue numbers, picking a volunteer).
pub fn organisation(conn: &mut DbConnection, id: OrganisationId) -> QueryResult<()> {
    diesel::update(organisations::table.find(id))
        .set(organisations::name.eq(organisations::name))
        .execute(conn)
        .map(|_| ())
}
