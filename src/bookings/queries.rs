//! Booking queries. Seat counters on the session row change only through
//! the conditional updates here, inside the booking's transaction.

use chrono::{NaiveDateTime, Utc};
use std::collections::HashMap;

use diesel::prelude::*;

use super::types::{BookingFilter, BookingRow, BookingStatus, ResidentRef};
use crate::courses::types::CourseRow;
use crate::db::schema::{bookings, residents, sessions};
use crate::db::{BookingId, DbConnection, OrganisationId, ResidentId, SessionId};
use crate::residents::types::ResidentRow;

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Takes a seat if one is free: `seats_taken + 1 WHERE seats_taken < capacity`.
/// `false` when the session is full (or not scheduled).
pub fn take_seat(conn: &mut DbConnection, session: SessionId) -> QueryResult<bool> {
    let updated = diesel::update(
        sessions::table
            .filter(sessions::id.eq(session))
            .filter(sessions::status.eq(crate::schedule::types::SessionStatus::Scheduled))
            .filter(sessions::seats_taken.lt(sessions::capacity)),
    )
    .set((
        sessions::seats_taken.eq(sessions::seats_taken + 1),
        sessions::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// A session's seat counters as read under its row lock (`lock_counters`).
#[derive(Debug, Clone, Queryable)]
pub struct Counters {
    pub id: SessionId,
    pub status: crate::schedule::types::SessionStatus,
    pub allocation: crate::schedule::types::Allocation,
    pub drawn_at: Option<NaiveDateTime>,
    pub capacity: i32,
    pub seats_taken: i32,
    pub waitlist_enabled: bool,
    pub waitlist_count: i32,
    pub waitlist_seq: i32,
}

impl Counters {
    /// A seat now, or the next waitlist place: `None` when the session
    /// gives neither (not scheduled, a lottery before its draw, full
    /// without a waitlist). Counts what it gives.
    pub fn take(&mut self) -> Option<Place> {
        use crate::schedule::types::{SessionStatus, awaits_draw};
        if self.status != SessionStatus::Scheduled || awaits_draw(self.allocation, self.drawn_at) {
            return None;
        }
        if self.seats_taken < self.capacity {
            self.seats_taken += 1;
            Some(Place::Seat)
        } else if self.waitlist_enabled {
            self.waitlist_count += 1;
            self.waitlist_seq += 1;
            Some(Place::Waitlist {
                position: i64::from(self.waitlist_count),
                seq: self.waitlist_seq,
            })
        } else {
            None
        }
    }

    /// What was taken from these counters since they read `before`;
    /// `None` when nothing was.
    pub fn taken_since(&self, before: &Counters) -> Option<Taken> {
        let taken = Taken {
            session: self.id,
            seats: self.seats_taken - before.seats_taken,
            waitlisted: self.waitlist_count - before.waitlist_count,
        };
        (taken.seats > 0 || taken.waitlisted > 0).then_some(taken)
    }
}

/// What `Counters::take` gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Seat,
    Waitlist { position: i64, seq: i32 },
}

/// Locks the sessions' rows in id order and reads their seat counters, in
/// one statement: a group's seats are then counted in memory and written
/// with `add_to_counters`. On SQLite the write transaction (`BEGIN
/// IMMEDIATE`) already holds the lock.
pub fn lock_counters(conn: &mut DbConnection, ids: &[SessionId]) -> QueryResult<Vec<Counters>> {
    let query = sessions::table
        .filter(sessions::id.eq_any(ids))
        .order(sessions::id)
        .select((
            sessions::id,
            sessions::status,
            sessions::allocation,
            sessions::drawn_at,
            sessions::capacity,
            sessions::seats_taken,
            sessions::waitlist_enabled,
            sessions::waitlist_count,
            sessions::waitlist_seq,
        ));
    match conn {
        DbConnection::Pg(c) => query.for_update().load(c),
        DbConnection::Sqlite(c) => query.load(c),
    }
}

/// How many seats and waitlist places a group took in one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub session: SessionId,
    pub seats: i32,
    pub waitlisted: i32,
}

/// Adds what a group took to its sessions' counters (rows locked by
/// `lock_counters`): one statement on PostgreSQL, one per session on
/// SQLite, where a statement is a function call.
pub fn add_to_counters(conn: &mut DbConnection, taken: &[Taken]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Integer, Text, Timestamp};
    if taken.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Pg(c) => {
            let ids: Vec<String> = taken.iter().map(|t| t.session.to_string()).collect();
            let seats: Vec<i32> = taken.iter().map(|t| t.seats).collect();
            let waitlisted: Vec<i32> = taken.iter().map(|t| t.waitlisted).collect();
            diesel::sql_query(
                "UPDATE sessions AS s SET seats_taken = s.seats_taken + t.seats, \
                 waitlist_count = s.waitlist_count + t.waitlisted, \
                 waitlist_seq = s.waitlist_seq + t.waitlisted, updated_at = $4 \
                 FROM unnest($1::text[], $2::int4[], $3::int4[]) AS t(id, seats, waitlisted) \
                 WHERE s.id = t.id",
            )
            .bind::<Array<Text>, _>(ids)
            .bind::<Array<Integer>, _>(seats)
            .bind::<Array<Integer>, _>(waitlisted)
            .bind::<Timestamp, _>(now())
            .execute(c)
            .map(|_| ())
        }
        DbConnection::Sqlite(c) => {
            for t in taken {
                diesel::update(sessions::table.filter(sessions::id.eq(t.session)))
                    .set((
                        sessions::seats_taken.eq(sessions::seats_taken + t.seats),
                        sessions::waitlist_count.eq(sessions::waitlist_count + t.waitlisted),
                        sessions::waitlist_seq.eq(sessions::waitlist_seq + t.waitlisted),
                        sessions::updated_at.eq(now()),
                    ))
                    .execute(c)?;
            }
            Ok(())
        }
    }
}

/// Takes a seat beyond capacity (an accepted walk-in).
pub fn take_extra_seat(conn: &mut DbConnection, session: SessionId) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::id.eq(session)))
        .set((
            sessions::seats_taken.eq(sessions::seats_taken + 1),
            sessions::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Joins the waitlist of a scheduled session: returns (position, sequence
/// number), `None` when the session is no longer scheduled. The session
/// row is locked by the update, so positions are handed out one at a time.
pub fn join_waitlist(
    conn: &mut DbConnection,
    session: SessionId,
) -> QueryResult<Option<(i64, i32)>> {
    let taken: Option<(i32, i32)> = diesel::update(
        sessions::table
            .filter(sessions::id.eq(session))
            .filter(sessions::status.eq(crate::schedule::types::SessionStatus::Scheduled)),
    )
    .set((
        sessions::waitlist_count.eq(sessions::waitlist_count + 1),
        sessions::waitlist_seq.eq(sessions::waitlist_seq + 1),
        sessions::updated_at.eq(now()),
    ))
    .returning((sessions::waitlist_count, sessions::waitlist_seq))
    .get_result(conn)
    .optional()?;
    Ok(taken.map(|(count, seq)| (i64::from(count), seq)))
}

pub fn release_seat(conn: &mut DbConnection, session: SessionId) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session))
            .filter(sessions::seats_taken.gt(0)),
    )
    .set((
        sessions::seats_taken.eq(sessions::seats_taken - 1),
        sessions::updated_at.eq(now()),
    ))
    .execute(conn)
    .map(|_| ())
}

pub fn leave_waitlist(conn: &mut DbConnection, session: SessionId) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session))
            .filter(sessions::waitlist_count.gt(0)),
    )
    .set((
        sessions::waitlist_count.eq(sessions::waitlist_count - 1),
        sessions::updated_at.eq(now()),
    ))
    .execute(conn)
    .map(|_| ())
}

/// The first waitlisted booking, with a seat taken for it and its place
/// left: `None` when nobody waits or no seat is free. The caller moves the
/// booking on (promoted or offered).
fn seat_first_waiting(
    conn: &mut DbConnection,
    session: SessionId,
) -> QueryResult<Option<BookingId>> {
    let first: Option<BookingId> = bookings::table
        .filter(bookings::session_id.eq(session))
        .filter(bookings::status.eq(BookingStatus::Waitlisted))
        .order(bookings::waitlist_seq.asc())
        .select(bookings::id)
        .first(conn)
        .optional()?;
    let Some(first) = first else { return Ok(None) };
    if !take_seat(conn, session)? {
        return Ok(None);
    }
    leave_waitlist(conn, session)?;
    Ok(Some(first))
}

/// Moves the first waitlisted booking into a free seat, if there is both.
pub fn promote_first(
    conn: &mut DbConnection,
    session: SessionId,
) -> QueryResult<Option<BookingId>> {
    let Some(first) = seat_first_waiting(conn, session)? else {
        return Ok(None);
    };
    diesel::update(
        bookings::table
            .filter(bookings::id.eq(first))
            .filter(bookings::status.eq(BookingStatus::Waitlisted)),
    )
    .set((
        bookings::status.eq(BookingStatus::Confirmed),
        bookings::promoted_at.eq(now()),
        bookings::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(Some(first))
}

/// Holds a seat for the first waitlisted booking until `expires`: takes the
/// seat (conditionally, as a booking would) and moves the booking from the
/// waitlist to `offered`. `None` when nobody waits or no seat is free.
pub fn offer_first(
    conn: &mut DbConnection,
    session: SessionId,
    expires: NaiveDateTime,
) -> QueryResult<Option<BookingId>> {
    let Some(first) = seat_first_waiting(conn, session)? else {
        return Ok(None);
    };
    diesel::update(
        bookings::table
            .filter(bookings::id.eq(first))
            .filter(bookings::status.eq(BookingStatus::Waitlisted)),
    )
    .set((
        bookings::status.eq(BookingStatus::Offered),
        bookings::offered_at.eq(now()),
        bookings::offer_expires_at.eq(expires),
        bookings::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(Some(first))
}

/// An offered booking becomes confirmed: its seat is already counted.
/// `false` when it is no longer offered.
pub fn accept_offer(conn: &mut DbConnection, id: BookingId) -> QueryResult<bool> {
    let updated = diesel::update(
        bookings::table
            .filter(bookings::id.eq(id))
            .filter(bookings::status.eq(BookingStatus::Offered)),
    )
    .set((
        bookings::status.eq(BookingStatus::Confirmed),
        bookings::promoted_at.eq(now()),
        bookings::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Offers whose time ran out: (booking, organisation, session), oldest first.
pub fn expired_offers(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(BookingId, OrganisationId, SessionId)>> {
    bookings::table
        .filter(bookings::status.eq(BookingStatus::Offered))
        .filter(bookings::offer_expires_at.le(at))
        .order(bookings::offer_expires_at.asc())
        .limit(limit)
        .select((
            bookings::id,
            bookings::organisation_id,
            bookings::session_id,
        ))
        .load(conn)
}

/// Counts an application, only while the session still takes them (a
/// lottery not drawn, applications open at `at`): the same statement
/// checks and counts, so an application racing the draw either lands
/// before it or is refused.
pub fn add_application(
    conn: &mut DbConnection,
    session: SessionId,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        sessions::table
            .filter(sessions::id.eq(session))
            .filter(sessions::status.eq(crate::schedule::types::SessionStatus::Scheduled))
            .filter(sessions::allocation.eq(crate::schedule::types::Allocation::Lottery))
            .filter(sessions::drawn_at.is_null())
            .filter(
                sessions::applications_close_at
                    .is_null()
                    .or(sessions::applications_close_at.ge(at)),
            ),
    )
    .set((
        sessions::applications_count.eq(sessions::applications_count + 1),
        sessions::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn leave_applications(conn: &mut DbConnection, session: SessionId) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session))
            .filter(sessions::applications_count.gt(0)),
    )
    .set((
        sessions::applications_count.eq(sessions::applications_count - 1),
        sessions::updated_at.eq(now()),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Moves an application to where the draw put it.
pub fn settle_application(
    conn: &mut DbConnection,
    id: BookingId,
    status: BookingStatus,
    waitlist_seq: Option<i32>,
) -> QueryResult<()> {
    diesel::update(
        bookings::table
            .filter(bookings::id.eq(id))
            .filter(bookings::status.eq(BookingStatus::Applied)),
    )
    .set((
        bookings::status.eq(status),
        bookings::waitlist_seq.eq(waitlist_seq),
        bookings::updated_at.eq(now()),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Inserts booking rows in one statement.
pub fn insert_all(conn: &mut DbConnection, rows: &[BookingRow]) -> QueryResult<()> {
    // Per backend: the multi-connection does not derive multi-row inserts.
    match conn {
        DbConnection::Pg(c) => diesel::insert_into(bookings::table).values(rows).execute(c),
        DbConnection::Sqlite(c) => diesel::insert_into(bookings::table).values(rows).execute(c),
    }
    .map(|_| ())
}

pub fn reference_taken(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    reference: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        bookings::table
            .filter(bookings::organisation_id.eq(organisation))
            .filter(bookings::reference.eq(reference)),
    ))
    .get_result(conn)
}

pub fn active_booking(
    conn: &mut DbConnection,
    session: SessionId,
    resident: ResidentId,
) -> QueryResult<Option<BookingRow>> {
    bookings::table
        .filter(bookings::session_id.eq(session))
        .filter(bookings::resident_id.eq(resident))
        .filter(bookings::status.eq_any(crate::bookings::types::BookingStatus::ACTIVE))
        .select(BookingRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: BookingId,
) -> QueryResult<Option<BookingRow>> {
    bookings::table
        .filter(bookings::organisation_id.eq(organisation))
        .filter(bookings::id.eq(id))
        .select(BookingRow::as_select())
        .first(conn)
        .optional()
}

pub fn cancel(
    conn: &mut DbConnection,
    id: BookingId,
    reason: &str,
    by: crate::db::AccountId,
) -> QueryResult<bool> {
    cancel_by(conn, id, reason, Some(by))
}

/// Cancels a booking; `by` is `None` when a job did it (an offer expired).
pub fn cancel_by(
    conn: &mut DbConnection,
    id: BookingId,
    reason: &str,
    by: Option<crate::db::AccountId>,
) -> QueryResult<bool> {
    let updated = diesel::update(
        bookings::table
            .filter(bookings::id.eq(id))
            .filter(bookings::status.ne(crate::bookings::types::BookingStatus::Cancelled)),
    )
    .set((
        bookings::status.eq(crate::bookings::types::BookingStatus::Cancelled),
        bookings::cancel_reason.eq(reason),
        bookings::cancelled_by.eq(by),
        bookings::cancelled_at.eq(now()),
        bookings::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn set_attendance(
    conn: &mut DbConnection,
    id: BookingId,
    attendance: &str,
    by: crate::db::AccountId,
) -> QueryResult<()> {
    diesel::update(bookings::table.filter(bookings::id.eq(id)))
        .set((
            bookings::attendance.eq(attendance),
            bookings::attendance_marked_by.eq(by),
            bookings::attendance_marked_at.eq(now()),
            bookings::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Marks every unmarked confirmed booking of a session as a no-show.
pub fn mark_no_shows(
    conn: &mut DbConnection,
    session: SessionId,
    by: crate::db::AccountId,
) -> QueryResult<usize> {
    diesel::update(
        bookings::table
            .filter(bookings::session_id.eq(session))
            .filter(bookings::status.eq(crate::bookings::types::BookingStatus::Confirmed))
            .filter(bookings::attendance.is_null()),
    )
    .set((
        bookings::attendance.eq("no_show"),
        bookings::attendance_marked_by.eq(by),
        bookings::attendance_marked_at.eq(now()),
        bookings::updated_at.eq(now()),
    ))
    .execute(conn)
}

pub type BookingWithResident = (BookingRow, ResidentRow);

/// Bookings of a session with their residents, waitlist in order.
pub fn of_session(
    conn: &mut DbConnection,
    session: SessionId,
) -> QueryResult<Vec<BookingWithResident>> {
    bookings::table
        .inner_join(residents::table)
        .filter(bookings::session_id.eq(session))
        .select((BookingRow::as_select(), ResidentRow::as_select()))
        .order((bookings::waitlist_seq.asc(), bookings::id.asc()))
        .load(conn)
}

pub fn with_resident(conn: &mut DbConnection, id: BookingId) -> QueryResult<BookingWithResident> {
    bookings::table
        .inner_join(residents::table)
        .filter(bookings::id.eq(id))
        .select((BookingRow::as_select(), ResidentRow::as_select()))
        .first(conn)
}

/// Position on the waitlist: 1 + waitlisted bookings ahead of this one.
pub fn waitlist_position(conn: &mut DbConnection, row: &BookingRow) -> QueryResult<Option<i64>> {
    if row.status != crate::bookings::types::BookingStatus::Waitlisted {
        return Ok(None);
    }
    let ahead: i64 = bookings::table
        .filter(bookings::session_id.eq(row.session_id))
        .filter(bookings::status.eq(crate::bookings::types::BookingStatus::Waitlisted))
        .filter(bookings::waitlist_seq.lt(row.waitlist_seq.unwrap_or(0)))
        .count()
        .get_result(conn)?;
    Ok(Some(ahead + 1))
}

pub fn list(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &BookingFilter,
    reference: Option<&str>,
    limit: i64,
    taught_by: Option<crate::db::AccountId>,
) -> QueryResult<Vec<BookingWithResident>> {
    let mut query = bookings::table
        .inner_join(residents::table)
        .filter(bookings::organisation_id.eq(organisation))
        .select((BookingRow::as_select(), ResidentRow::as_select()))
        .order(bookings::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(reference) = reference {
        query = query.filter(bookings::reference.eq(reference.to_owned()));
    }
    if let Some(resident) = filter.resident_id {
        query = query.filter(bookings::resident_id.eq(ResidentId(resident)));
    }
    if let Some(session) = filter.session_id {
        query = query.filter(bookings::session_id.eq(SessionId(session)));
    }
    if let Some(status) = filter.status {
        query = query.filter(bookings::status.eq(status));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(bookings::id.gt(BookingId(cursor)));
    }
    if let Some(account) = taught_by {
        query = query.filter(bookings::session_id.eq_any(crate::auth::access::taught_by(account)));
    }
    query.load(conn)
}

pub fn record_event(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    booking: BookingId,
    kind: &str,
) -> QueryResult<()> {
    use crate::db::schema::booking_events;
    diesel::insert_into(booking_events::table)
        .values((
            booking_events::id.eq(uuid::Uuid::now_v7().to_string()),
            booking_events::organisation_id.eq(organisation),
            booking_events::booking_id.eq(booking),
            booking_events::kind.eq(kind),
            booking_events::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn resident_ref(r: &ResidentRow) -> ResidentRef {
    ResidentRef {
        id: r.id,
        name: r.display_name(),
        kana: format!("{} {}", r.family_name_kana, r.given_name_kana),
        phone: r.phone.clone(),
        contact_preference: r.contact_preference.clone(),
    }
}

/// Every booking of a resident, oldest first.
pub fn of_resident(conn: &mut DbConnection, resident: ResidentId) -> QueryResult<Vec<BookingRow>> {
    bookings::table
        .filter(bookings::resident_id.eq(resident))
        .order(bookings::id.asc())
        .select(BookingRow::as_select())
        .load(conn)
}

/// Gives a booking (and its attendance) to another resident record.
pub fn move_to_resident(
    conn: &mut DbConnection,
    booking: BookingId,
    resident: ResidentId,
) -> QueryResult<()> {
    diesel::update(bookings::table.filter(bookings::id.eq(booking)))
        .set((
            bookings::resident_id.eq(resident),
            bookings::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Which of `ids` are bookings of sessions the account teaches.
pub fn in_sessions_taught_by(
    conn: &mut DbConnection,
    ids: &[BookingId],
    account: crate::db::AccountId,
) -> QueryResult<std::collections::HashSet<BookingId>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let found: Vec<BookingId> = bookings::table
        .filter(bookings::id.eq_any(ids))
        .filter(bookings::session_id.eq_any(crate::auth::access::taught_by(account)))
        .select(bookings::id)
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// Cancels every active booking of a session and zeroes its counters.
pub fn cancel_all(
    conn: &mut DbConnection,
    session: SessionId,
    reason: &str,
    by: crate::db::AccountId,
) -> QueryResult<Vec<BookingWithResident>> {
    let active: Vec<BookingWithResident> = of_session(conn, session)?
        .into_iter()
        .filter(|(b, _)| b.status != crate::bookings::types::BookingStatus::Cancelled)
        .collect();
    for (booking, _) in &active {
        cancel(conn, booking.id, reason, by)?;
    }
    diesel::update(sessions::table.filter(sessions::id.eq(session)))
        .set((
            sessions::seats_taken.eq(0),
            sessions::waitlist_count.eq(0),
            sessions::applications_count.eq(0),
            sessions::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(active)
}

/// Waitlist positions of many bookings in one query (booking id → position).
pub fn waitlist_positions(
    conn: &mut DbConnection,
    rows: &[BookingRow],
) -> QueryResult<std::collections::HashMap<String, i64>> {
    let sessions: Vec<String> = rows
        .iter()
        .filter(|r| r.status == crate::bookings::types::BookingStatus::Waitlisted)
        .map(|r| r.session_id.to_string())
        .collect();
    if sessions.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let waiting: Vec<(String, String)> = bookings::table
        .filter(bookings::status.eq(crate::bookings::types::BookingStatus::Waitlisted))
        .filter(bookings::session_id.eq_any(sessions))
        .order((bookings::session_id.asc(), bookings::waitlist_seq.asc()))
        .select((bookings::session_id, bookings::id))
        .load(conn)?;
    let mut positions = std::collections::HashMap::new();
    let mut current = String::new();
    let mut n = 0;
    for (session, booking) in waiting {
        if session != current {
            current = session;
            n = 0;
        }
        n += 1;
        positions.insert(booking, n);
    }
    Ok(positions)
}

/// Ties a booking to the enrolment that made it.
pub fn set_enrolment(
    conn: &mut DbConnection,
    booking: BookingId,
    enrolment: uuid::Uuid,
) -> QueryResult<()> {
    diesel::update(bookings::table.filter(bookings::id.eq(booking)))
        .set(bookings::enrolment_id.eq(crate::db::EnrolmentId(enrolment)))
        .execute(conn)
        .map(|_| ())
}

/// The enrolment's bookings of sessions yet to come, not cancelled.
pub fn future_bookings_of_enrolment(
    conn: &mut DbConnection,
    enrolment: uuid::Uuid,
) -> QueryResult<Vec<BookingId>> {
    bookings::table
        .inner_join(sessions::table)
        .filter(bookings::enrolment_id.eq(crate::db::EnrolmentId(enrolment)))
        .filter(bookings::status.ne(crate::bookings::types::BookingStatus::Cancelled))
        .filter(sessions::starts_at.gt(now()))
        .select(bookings::id)
        .load::<BookingId>(conn)
}

/// A booking by id, whatever its organisation (for code that already holds
/// an id from its own organisation's rows).
pub fn find_any(conn: &mut DbConnection, id: BookingId) -> QueryResult<Option<BookingRow>> {
    bookings::table
        .filter(bookings::id.eq(id))
        .select(BookingRow::as_select())
        .first(conn)
        .optional()
}

/// Start instants of the sessions a resident did not come to (no-shows)
/// since `since`, oldest first.
pub fn no_shows_since(
    conn: &mut DbConnection,
    resident: ResidentId,
    since: chrono::NaiveDateTime,
) -> QueryResult<Vec<chrono::NaiveDateTime>> {
    bookings::table
        .inner_join(sessions::table)
        .filter(bookings::resident_id.eq(resident))
        .filter(bookings::attendance.eq("no_show"))
        .filter(sessions::starts_at.ge(since))
        .order(sessions::starts_at.asc())
        .select(sessions::starts_at)
        .load(conn)
}

/// A session with its course, in one statement: a booking needs both (the
/// course's eligibility rule) and every statement before the seat costs
/// each booking of a busy machine a round trip.
pub fn session_with_course(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: SessionId,
) -> QueryResult<Option<(crate::schedule::types::SessionRow, Option<CourseRow>)>> {
    Ok(sessions_with_courses(conn, organisation, &[id])?.remove(&id))
}

/// A resident with the start instants of the sessions they did not come to
/// since `since` (oldest first), in one statement: a booking reads both.
pub fn resident_with_no_shows(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: ResidentId,
    since: NaiveDateTime,
) -> QueryResult<Option<(ResidentRow, Vec<NaiveDateTime>)>> {
    Ok(residents_with_no_shows(conn, organisation, &[id], since)?.remove(&id))
}

/// `session_with_course` for many sessions, in one statement.
pub fn sessions_with_courses(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    ids: &[SessionId],
) -> QueryResult<HashMap<SessionId, (crate::schedule::types::SessionRow, Option<CourseRow>)>> {
    use crate::db::schema::courses;
    let rows: Vec<(crate::schedule::types::SessionRow, Option<CourseRow>)> = sessions::table
        .left_join(
            courses::table.on(courses::id
                .eq(sessions::course_id)
                .and(courses::organisation_id.eq(sessions::organisation_id))),
        )
        .filter(sessions::organisation_id.eq(organisation))
        .filter(sessions::id.eq_any(ids))
        .select((
            crate::schedule::types::SessionRow::as_select(),
            Option::<CourseRow>::as_select(),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.0.id, r)).collect())
}

/// `resident_with_no_shows` for many residents, in one statement.
pub fn residents_with_no_shows(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    ids: &[ResidentId],
    since: NaiveDateTime,
) -> QueryResult<HashMap<ResidentId, (ResidentRow, Vec<NaiveDateTime>)>> {
    let rows: Vec<(ResidentRow, Option<NaiveDateTime>)> = residents::table
        .left_join(
            bookings::table.on(bookings::resident_id
                .eq(residents::id)
                .and(bookings::attendance.eq("no_show"))),
        )
        .left_join(
            sessions::table.on(sessions::id
                .eq(bookings::session_id)
                .and(sessions::starts_at.ge(since))),
        )
        .filter(residents::organisation_id.eq(organisation))
        .filter(residents::id.eq_any(ids))
        .select((ResidentRow::as_select(), sessions::starts_at.nullable()))
        .load(conn)?;
    let mut found: HashMap<ResidentId, (ResidentRow, Vec<NaiveDateTime>)> = HashMap::new();
    for (resident, at) in rows {
        let entry = found
            .entry(resident.id)
            .or_insert_with(|| (resident, Vec::new()));
        entry.1.extend(at);
    }
    for (_, missed) in found.values_mut() {
        missed.sort();
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::{Counters, Place};
    use crate::db::SessionId;
    use crate::schedule::types::{Allocation, SessionStatus};

    fn counters(capacity: i32, seats_taken: i32, waitlist_enabled: bool) -> Counters {
        Counters {
            id: SessionId::generate(),
            status: SessionStatus::Scheduled,
            allocation: Allocation::FirstCome,
            drawn_at: None,
            capacity,
            seats_taken,
            waitlist_enabled,
            waitlist_count: 1,
            waitlist_seq: 5,
        }
    }

    #[test]
    fn seats_first_then_the_waitlist_continues_its_numbers() {
        let mut c = counters(3, 1, true);
        let places: Vec<Option<Place>> = (0..4).map(|_| c.take()).collect();
        assert_eq!(
            places,
            vec![
                Some(Place::Seat),
                Some(Place::Seat),
                Some(Place::Waitlist {
                    position: 2,
                    seq: 6
                }),
                Some(Place::Waitlist {
                    position: 3,
                    seq: 7
                }),
            ]
        );
        assert_eq!((c.seats_taken, c.waitlist_count, c.waitlist_seq), (3, 3, 7));
        let taken = c.taken_since(&counters(3, 1, true)).unwrap();
        assert_eq!((taken.seats, taken.waitlisted), (2, 2));
        assert_eq!(c.taken_since(&c), None, "nothing taken, nothing to write");
    }

    #[test]
    fn no_place_where_the_session_gives_none() {
        let mut full = counters(2, 2, false);
        assert_eq!(full.take(), None);
        assert_eq!(full.seats_taken, 2);

        let mut cancelled = counters(2, 0, true);
        cancelled.status = SessionStatus::Cancelled;
        assert_eq!(cancelled.take(), None);

        let mut lottery = counters(2, 0, true);
        lottery.allocation = Allocation::Lottery;
        assert_eq!(lottery.take(), None, "applications before the draw");
        lottery.drawn_at = Some(chrono::Utc::now().naive_utc());
        assert_eq!(lottery.take(), Some(Place::Seat), "first come after it");
    }
}
