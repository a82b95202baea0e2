//! The lottery (抽選): applications until `applications_close_at`, then one
//! draw at `draw_at` that confirms winners up to the free seats and puts the
//! rest on the waitlist in drawn order (or, without a waitlist, tells them
//! they were not drawn).
//!
//! Fairness and audit: every application gets a ticket, the SHA-256 of the
//! draw's random seed and the booking id (`ticket`); applications are
//! ordered by their group, then by ticket. The groups are the published
//! rules: with `first_timers_first`, residents who never attended a class of
//! the course come before those who did; with the organisation's
//! `lottery_no_shows_last`, residents with recent no-shows come after
//! everyone else. Nothing else — not the time of application, not the
//! channel, not who entered it — has any weight. The seed is drawn from the
//! operating system's random source only when the draw runs (after
//! applications close), and it is stored with the ordered list and each
//! entry's group facts, so anyone can recompute the order (the record
//! answers `reproduced`).
//!
//! Once: the draw claims the session with a conditional update of
//! `drawn_at` in the transaction that writes the outcome; a second draw (a
//! second instance, a coordinator pressing the button) finds it set and
//! does nothing.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::loaners as pool;
use super::queries;
use super::service::{session_of, tell};
use super::types::BookingStatus;
use crate::audit::Actor;
use crate::db::schema::{bookings, draw_entries, session_draws, sessions};
use crate::db::{
    AccountId, BookingId, DbConnection, OrganisationId, ResidentId, SessionId, write_tx,
};
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::messages::types::Kind;
use crate::schedule::types::{Allocation, SessionStatus};

/// Names the ordering rule stored with each draw.
pub const ALGORITHM: &str =
    "sha256(seed:booking_id), grouped: [no-shows last] [first-timers first]";

/// What places an application before others, besides its ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Priority {
    pub first_timers_first: bool,
    pub no_shows_last: bool,
}

/// One application as the draw sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub booking: String,
    /// Never attended a class of the course.
    pub first_timer: bool,
    /// Has recent no-shows (as the booking warning counts them).
    pub recent_no_shows: bool,
}

/// An application's ticket: hex SHA-256 of `seed:booking`.
pub fn ticket(seed: &str, booking: &str) -> String {
    let digest = Sha256::digest(format!("{seed}:{booking}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The group an application is drawn in: 0 first.
pub fn group(a: &Applicant, p: Priority) -> u8 {
    let late = p.no_shows_last && a.recent_no_shows;
    let behind = p.first_timers_first && !a.first_timer;
    u8::from(late) * 2 + u8::from(behind)
}

/// The drawn order: indexes into `applicants` with their tickets.
pub fn order(seed: &str, applicants: &[Applicant], p: Priority) -> Vec<(usize, String)> {
    let mut drawn: Vec<(u8, String, usize)> = applicants
        .iter()
        .enumerate()
        .map(|(i, a)| (group(a, p), ticket(seed, &a.booking), i))
        .collect();
    drawn.sort();
    drawn.into_iter().map(|(_, t, i)| (i, t)).collect()
}

/// A fresh seed from the operating system's random source: 256 bits, hex.
fn new_seed() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How recent no-shows are counted (the booking warning's settings).
#[derive(Debug, Clone, Copy)]
pub struct NoShowRule {
    pub count: i64,
    pub months: u32,
}

/// What a draw did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drawn {
    pub applicants: usize,
    pub won: usize,
    pub waitlisted: usize,
    pub not_drawn: usize,
}

/// Residents (of `among`) who attended a class of the course before.
fn attended_course(
    conn: &mut DbConnection,
    course: crate::db::CourseId,
    among: &[ResidentId],
) -> QueryResult<HashSet<ResidentId>> {
    let rows: Vec<ResidentId> = bookings::table
        .inner_join(sessions::table)
        .filter(sessions::course_id.eq(course))
        .filter(bookings::resident_id.eq_any(among))
        .filter(bookings::attendance.eq_any(["present", "late"]))
        .select(bookings::resident_id)
        .distinct()
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Draws the session's lottery, once. `None` when it was drawn already (or
/// is no lottery): nothing changes. Call inside a write transaction.
/// `by`: the coordinator who drew it by hand, `None` for the job.
pub fn draw(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: SessionId,
    by: Option<AccountId>,
    rule: NoShowRule,
    turnaround_minutes: i64,
) -> AppResult<Option<Drawn>> {
    crate::db::locks::session(conn, id)?;
    let session = session_of(conn, organisation, id)?;
    if session.allocation != Allocation::Lottery || session.drawn_at.is_some() {
        return Ok(None);
    }
    let now = Utc::now().naive_utc();
    let claimed = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::drawn_at.is_null()),
    )
    .set((
        sessions::drawn_at.eq(now),
        sessions::applications_count.eq(0),
        sessions::updated_at.eq(now),
    ))
    .execute(conn)?;
    if claimed != 1 {
        return Ok(None);
    }
    let applied: Vec<(BookingId, ResidentId)> = bookings::table
        .filter(bookings::session_id.eq(id))
        .filter(bookings::status.eq(BookingStatus::Applied))
        .order(bookings::id.asc())
        .select((bookings::id, bookings::resident_id))
        .load(conn)?;
    let residents: Vec<ResidentId> = applied.iter().map(|(_, r)| *r).collect();
    let attended = attended_course(conn, session.course_id, &residents)?;
    let since = now
        .checked_sub_months(chrono::Months::new(rule.months))
        .unwrap_or_default();
    let mut applicants = Vec::with_capacity(applied.len());
    for (booking, resident) in &applied {
        let missed = queries::no_shows_since(conn, *resident, since)?.len() as i64;
        applicants.push(Applicant {
            booking: booking.to_string(),
            first_timer: !attended.contains(resident),
            recent_no_shows: rule.count > 0 && missed >= rule.count,
        });
    }
    let org = crate::organisations::queries::get(conn, organisation)?;
    let priority = Priority {
        first_timers_first: session.first_timers_first,
        no_shows_last: org.lottery_no_shows_last,
    };
    let seed = new_seed();
    let seats_free = (session.capacity - session.seats_taken).max(0);
    let mut outcome = Drawn {
        applicants: applied.len(),
        won: 0,
        waitlisted: 0,
        not_drawn: 0,
    };
    let actor = match by {
        Some(account) => Actor::staff(organisation, account),
        None => Actor::system(organisation),
    };
    for (position, (i, ticket)) in order(&seed, &applicants, priority).into_iter().enumerate() {
        let (booking, resident) = applied[i];
        let result = if (outcome.won as i32) < seats_free && queries::take_seat(conn, id)? {
            queries::settle_application(conn, booking, BookingStatus::Confirmed, None)?;
            pool::on_promotion(conn, booking, id, turnaround_minutes)?;
            tell(conn, Kind::LotteryWon, booking, None, None)?;
            outcome.won += 1;
            "won"
        } else if session.waitlist_enabled {
            let (place, seq) = queries::join_waitlist(conn, id)?.ok_or_else(|| {
                AppError::conflict("session_not_bookable", "the session is no longer scheduled")
            })?;
            queries::settle_application(conn, booking, BookingStatus::Waitlisted, Some(seq))?;
            tell(conn, Kind::LotteryWaitlisted, booking, Some(place), None)?;
            outcome.waitlisted += 1;
            "waitlisted"
        } else {
            queries::cancel_by(conn, booking, "not drawn in the lottery", by)?;
            pool::release(conn, booking, &session)?;
            tell(conn, Kind::LotteryNotDrawn, booking, None, None)?;
            outcome.not_drawn += 1;
            "not_drawn"
        };
        diesel::insert_into(draw_entries::table)
            .values((
                draw_entries::session_id.eq(id),
                draw_entries::position.eq(position as i32 + 1),
                draw_entries::booking_id.eq(booking),
                draw_entries::resident_id.eq(resident),
                draw_entries::first_timer.eq(applicants[i].first_timer),
                draw_entries::recent_no_shows.eq(applicants[i].recent_no_shows),
                draw_entries::ticket.eq(ticket),
                draw_entries::outcome.eq(result),
            ))
            .execute(conn)?;
    }
    diesel::insert_into(session_draws::table)
        .values((
            session_draws::session_id.eq(id),
            session_draws::organisation_id.eq(organisation),
            session_draws::seed.eq(&seed),
            session_draws::algorithm.eq(ALGORITHM),
            session_draws::capacity.eq(session.capacity),
            session_draws::seats_free.eq(seats_free),
            session_draws::applicants.eq(outcome.applicants as i32),
            session_draws::winners.eq(outcome.won as i32),
            session_draws::first_timers_first.eq(priority.first_timers_first),
            session_draws::no_shows_last.eq(priority.no_shows_last),
            session_draws::no_show_count.eq(rule.count as i32),
            session_draws::no_show_months.eq(rule.months as i32),
            session_draws::drawn_by.eq(by),
            session_draws::drawn_at.eq(now),
        ))
        .execute(conn)?;
    crate::audit::record(
        conn,
        actor,
        "session.draw",
        "session",
        id,
        format!(
            "lottery drawn: {} application(s), {} won, {} waitlisted, {} not drawn (seed {seed})",
            outcome.applicants, outcome.won, outcome.waitlisted, outcome.not_drawn
        ),
    )?;
    Ok(Some(outcome))
}

/// Lotteries whose draw time has come: (organisation, session).
pub fn due(
    conn: &mut DbConnection,
    at: NaiveDateTime,
) -> QueryResult<Vec<(OrganisationId, SessionId)>> {
    sessions::table
        .filter(sessions::allocation.eq(Allocation::Lottery))
        .filter(sessions::drawn_at.is_null())
        .filter(sessions::draw_at.le(at))
        .filter(sessions::status.eq(SessionStatus::Scheduled))
        .order(sessions::draw_at.asc())
        .limit(100)
        .select((sessions::organisation_id, sessions::id))
        .load(conn)
}

/// The job: draws every lottery due, each in its own transaction.
pub fn draw_due(
    conn: &mut DbConnection,
    rule: NoShowRule,
    turnaround_minutes: i64,
) -> Result<usize, AppError> {
    let mut drawn = 0;
    for (organisation, session) in due(conn, Utc::now().naive_utc())? {
        let done = write_tx(conn, |conn| {
            draw(conn, organisation, session, None, rule, turnaround_minutes)
        })?;
        if done.is_some() {
            drawn += 1;
        }
    }
    Ok(drawn)
}

pub const LEASE: &str = "draw_lotteries";

pub fn job(interval_secs: u64, rule: NoShowRule, turnaround_minutes: i64) -> Job {
    Job {
        name: LEASE,
        every: Duration::from_secs(interval_secs),
        run: Box::new(move |conn| draw_due(conn, rule, turnaround_minutes)),
    }
}

/// A stored draw.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = session_draws)]
pub struct DrawRow {
    pub session_id: SessionId,
    pub organisation_id: OrganisationId,
    pub seed: String,
    pub algorithm: String,
    pub capacity: i32,
    pub seats_free: i32,
    pub applicants: i32,
    pub winners: i32,
    pub first_timers_first: bool,
    pub no_shows_last: bool,
    pub no_show_count: i32,
    pub no_show_months: i32,
    pub drawn_by: Option<AccountId>,
    pub drawn_at: NaiveDateTime,
}

/// One stored entry of a draw.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = draw_entries)]
pub struct EntryRow {
    pub session_id: SessionId,
    pub position: i32,
    pub booking_id: BookingId,
    pub resident_id: ResidentId,
    pub first_timer: bool,
    pub recent_no_shows: bool,
    pub ticket: String,
    pub outcome: String,
}

/// The draw of a session of the organisation, with its entries in order.
pub fn record(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: SessionId,
) -> QueryResult<Option<(DrawRow, Vec<EntryRow>)>> {
    let Some(draw) = session_draws::table
        .filter(session_draws::session_id.eq(id))
        .filter(session_draws::organisation_id.eq(organisation))
        .select(DrawRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let entries = draw_entries::table
        .filter(draw_entries::session_id.eq(id))
        .order(draw_entries::position.asc())
        .select(EntryRow::as_select())
        .load(conn)?;
    Ok(Some((draw, entries)))
}

/// Recomputes the order from the stored seed and facts: whether it is the
/// stored order.
pub fn reproduces(draw: &DrawRow, entries: &[EntryRow]) -> bool {
    let applicants: Vec<Applicant> = entries
        .iter()
        .map(|e| Applicant {
            booking: e.booking_id.to_string(),
            first_timer: e.first_timer,
            recent_no_shows: e.recent_no_shows,
        })
        .collect();
    let priority = Priority {
        first_timers_first: draw.first_timers_first,
        no_shows_last: draw.no_shows_last,
    };
    let again = order(&draw.seed, &applicants, priority);
    again.len() == entries.len()
        && again
            .iter()
            .zip(entries)
            .all(|((i, t), e)| entries[*i].booking_id == e.booking_id && *t == e.ticket)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applicants(n: usize) -> Vec<Applicant> {
        (0..n)
            .map(|i| Applicant {
                booking: format!("booking-{i}"),
                first_timer: i % 2 == 0,
                recent_no_shows: i % 5 == 0,
            })
            .collect()
    }

    #[test]
    fn the_same_seed_draws_the_same_order_and_another_seed_another() {
        let a = applicants(30);
        let first = order("seed-1", &a, Priority::default());
        assert_eq!(first, order("seed-1", &a, Priority::default()));
        assert_ne!(first, order("seed-2", &a, Priority::default()));
        // The order does not depend on the order applications came in.
        let mut reversed = a.clone();
        reversed.reverse();
        let names = |o: Vec<(usize, String)>, list: &[Applicant]| -> Vec<String> {
            o.into_iter()
                .map(|(i, _)| list[i].booking.clone())
                .collect()
        };
        assert_eq!(
            names(first, &a),
            names(order("seed-1", &reversed, Priority::default()), &reversed)
        );
    }

    #[test]
    fn a_ticket_is_the_sha256_of_seed_and_booking() {
        // printf 'abc:x' | sha256sum
        assert_eq!(
            ticket("abc", "x"),
            "68a170c1f5d6d10b5011496348a45eb9197565608a6bbf98d2948852bb4737b0"
        );
        assert_ne!(ticket("abc", "x"), ticket("abc", "y"));
    }

    #[test]
    fn first_timers_come_first_and_no_shows_last_when_asked() {
        let a = applicants(40);
        let p = Priority {
            first_timers_first: true,
            no_shows_last: true,
        };
        let groups: Vec<u8> = order("s", &a, p)
            .into_iter()
            .map(|(i, _)| group(&a[i], p))
            .collect();
        assert!(groups.windows(2).all(|w| w[0] <= w[1]), "{groups:?}");
        let firsts = order("s", &a, p);
        assert!(a[firsts[0].0].first_timer && !a[firsts[0].0].recent_no_shows);
        assert!(a[firsts[39].0].recent_no_shows);
        // Without priorities, tickets alone decide.
        let plain = order("s", &a, Priority::default());
        let tickets: Vec<&String> = plain.iter().map(|(_, t)| t).collect();
        assert!(tickets.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn every_applicant_has_an_even_chance_at_the_first_seat() {
        // 4 applicants, 4000 seeds: each should be first about 1000 times.
        let a = applicants(4);
        let mut firsts = [0usize; 4];
        for s in 0..4000 {
            firsts[order(&format!("seed-{s}"), &a, Priority::default())[0].0] += 1;
        }
        for n in firsts {
            assert!((850..1150).contains(&n), "{firsts:?}");
        }
    }
}
