//! Reminders: each organisation says when they go out (`reminder_rules`,
//! e.g. `24h,2h`; default the day before at 10:00 local). A job looks for
//! confirmed bookings whose reminder is due, and writes each reminder once
//! per booking and rule (`reminders_sent`) in the same transaction as its
//! message: a booking cancelled meanwhile gets none, and a session moved
//! before its reminder is reminded at the new time (the due time is always
//! computed from where the session is now), never twice.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::loaners as pool;
use crate::calendar::reminder::Rule;
use crate::db::schema::{bookings, organisations, reminders_sent, sessions};
use crate::db::{BookingId, DbConnection, OrganisationId, ResidentId, SessionId, write_tx};
use crate::error::AppError;
use crate::jobs::Job;
use crate::messages::compose::{self, BookingNote};
use crate::messages::types::Kind;

pub const LEASE: &str = "send_reminders";

/// The furthest ahead a rule may reach (14 days and a day of slack).
const LOOKAHEAD_DAYS: i64 = 15;

pub fn job(interval_secs: u64) -> Job {
    Job {
        name: LEASE,
        every: Duration::from_secs(interval_secs),
        run: Box::new(send_due),
    }
}

type Candidate = (
    BookingId,
    OrganisationId,
    SessionId,
    ResidentId,
    String,
    i32,
    NaiveDateTime,
    NaiveDateTime,
);

/// Writes the reminders due now; the number written.
pub fn send_due(conn: &mut DbConnection) -> Result<usize, AppError> {
    let now = Utc::now();
    let orgs: Vec<(OrganisationId, String, String)> = organisations::table
        .select((
            organisations::id,
            organisations::timezone,
            organisations::reminder_rules,
        ))
        .load(conn)?;
    let mut written = 0;
    for (org, tz, rules) in orgs {
        let Ok(rules) = Rule::parse_list(&rules) else {
            continue;
        };
        if rules.is_empty() {
            continue;
        }
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Tokyo);
        let candidates: Vec<Candidate> = bookings::table
            .inner_join(sessions::table)
            .filter(bookings::organisation_id.eq(org))
            .filter(bookings::status.eq(super::types::BookingStatus::Confirmed))
            .filter(sessions::status.eq(crate::schedule::types::SessionStatus::Scheduled))
            .filter(sessions::starts_at.gt(now.naive_utc()))
            .filter(
                sessions::starts_at.lt(now.naive_utc() + chrono::Duration::days(LOOKAHEAD_DAYS)),
            )
            .select((
                bookings::id,
                bookings::organisation_id,
                bookings::session_id,
                bookings::resident_id,
                bookings::reference,
                bookings::fee_due_yen,
                bookings::created_at,
                sessions::starts_at,
            ))
            .load(conn)?;
        for (booking, org, session, resident, reference, fee, booked_at, starts_at) in candidates {
            for rule in &rules {
                let due = rule.due_at(starts_at.and_utc(), &tz);
                // Due, and not already past when the booking was made (a
                // booking made the evening before gets no "day before" mail).
                if due > now || due.naive_utc() < booked_at {
                    continue;
                }
                let key = rule.key();
                let done = write_tx(conn, |conn| {
                    // Re-check under the write lock: still confirmed, not yet sent.
                    let still: Option<String> = bookings::table
                        .filter(bookings::id.eq(booking))
                        .filter(bookings::status.eq(super::types::BookingStatus::Confirmed))
                        .select(bookings::reference)
                        .first(conn)
                        .optional()?;
                    if still.is_none() {
                        return Ok(false);
                    }
                    let sent: i64 = reminders_sent::table
                        .filter(reminders_sent::booking_id.eq(booking))
                        .filter(reminders_sent::rule.eq(&key))
                        .count()
                        .get_result(conn)?;
                    if sent > 0 {
                        return Ok(false);
                    }
                    // The job runs under its lease; the primary key is the
                    // backstop against a second writer.
                    diesel::insert_into(reminders_sent::table)
                        .values((
                            reminders_sent::booking_id.eq(booking),
                            reminders_sent::rule.eq(&key),
                            reminders_sent::created_at.eq(Utc::now().naive_utc()),
                        ))
                        .execute(conn)?;
                    let loaner = pool::label(pool::status_of(conn, booking)?.as_deref());
                    compose::booking(
                        conn,
                        &BookingNote {
                            kind: Kind::Reminder,
                            organisation: org,
                            booking,
                            session,
                            resident,
                            reference: &reference,
                            fee_due: fee,
                            loaner: &loaner,
                            waitlist_position: None,
                            reason: None,
                            moved_from: None,
                            offer_until: None,
                        },
                    )?;
                    Ok::<_, AppError>(true)
                })?;
                if done {
                    written += 1;
                }
            }
        }
    }
    Ok(written)
}
