//! What happens to a seat someone gives up, and held offers.
//!
//! A session without `offer_hours` gives a freed seat at once to the first
//! waitlisted booking (`promoted`), as always. A session with
//! `offer_hours` holds it for that resident instead: the booking becomes
//! `offered` until `offer_expires_at`; staff accept it (the resident said
//! yes on the phone) or decline it; an offer not answered in time is
//! cancelled by a job and the seat passes to the next in line. A held seat
//! is counted in `seats_taken` from the moment it is offered, so it is
//! neither free nor confirmed and nobody else can take it; every move
//! below runs under the session's row lock, re-reading the booking there,
//! so parallel cancellations, answers and expiries see one another.

use std::time::Duration;

use chrono::Utc;

use super::loaners as pool;
use super::queries;
use super::service::{self, tell};
use super::types::{BookingRow, BookingStatus};
use crate::audit::Actor;
use crate::db::{BookingId, DbConnection, OrganisationId, SessionId, write_tx};
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::messages::types::Kind;
use crate::schedule::types::SessionRow;

/// Where a freed seat went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freed {
    /// Nobody was waiting: the seat is free.
    Released,
    /// Given at once to this waitlisted booking.
    Promoted(BookingId),
    /// Held for this waitlisted booking until it answers.
    Offered(BookingId),
}

impl Freed {
    pub fn promoted(self) -> Option<BookingId> {
        match self {
            Freed::Promoted(id) => Some(id),
            _ => None,
        }
    }

    pub fn offered(self) -> Option<BookingId> {
        match self {
            Freed::Offered(id) => Some(id),
            _ => None,
        }
    }
}

fn audit(
    conn: &mut DbConnection,
    actor: Actor,
    action: &str,
    id: BookingId,
    summary: String,
) -> AppResult<()> {
    crate::audit::record(conn, actor, action, "booking", id, summary)?;
    Ok(())
}

/// A seat counted in `seats_taken` was just given up (a confirmed booking
/// or a held offer, already cancelled by the caller): it goes to the next
/// in line, held or at once as the session says, or becomes free. Call
/// under the session lock, inside the transaction that gave it up.
pub fn pass_on(
    conn: &mut DbConnection,
    actor: Actor,
    session: SessionId,
    after: &str,
    turnaround_minutes: i64,
) -> AppResult<Freed> {
    let row = crate::schedule::queries::find_session(conn, actor.organisation, session)?
        .ok_or_else(|| AppError::not_found("session"))?;
    queries::release_seat(conn, session)?;
    let freed = match row.offer_hours {
        Some(hours) => {
            let expires = Utc::now().naive_utc() + chrono::Duration::hours(i64::from(hours));
            match queries::offer_first(conn, session, expires)? {
                Some(next) => {
                    queries::record_event(conn, actor.organisation, next, "offered")?;
                    audit(
                        conn,
                        actor,
                        "booking.offer",
                        next,
                        format!(
                            "seat offered until {} UTC after {after} was given up",
                            expires.format("%Y-%m-%d %H:%M")
                        ),
                    )?;
                    tell(conn, Kind::SeatOffered, next, None, None)?;
                    Freed::Offered(next)
                }
                None => Freed::Released,
            }
        }
        None => match queries::promote_first(conn, session)? {
            Some(next) => {
                queries::record_event(conn, actor.organisation, next, "promoted")?;
                audit(
                    conn,
                    actor,
                    "booking.promote",
                    next,
                    format!("promoted from the waitlist after {after} was given up"),
                )?;
                pool::on_promotion(conn, next, session, turnaround_minutes)?;
                tell(conn, Kind::BookingPromoted, next, None, None)?;
                Freed::Promoted(next)
            }
            None => Freed::Released,
        },
    };
    Ok(freed)
}

/// Loads an offered booking under its session's lock.
fn offered(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: BookingId,
) -> AppResult<(BookingRow, SessionRow)> {
    let booking =
        queries::find(conn, organisation, id)?.ok_or_else(|| AppError::not_found("booking"))?;
    crate::db::locks::session(conn, booking.session_id)?;
    let booking =
        queries::find(conn, organisation, id)?.ok_or_else(|| AppError::not_found("booking"))?;
    if booking.status != BookingStatus::Offered {
        return Err(AppError::conflict(
            "not_offered",
            format!(
                "the booking is {}: there is no offer to answer",
                booking.status
            ),
        ));
    }
    let session = service::session_of(conn, organisation, booking.session_id)?;
    Ok((booking, session))
}

/// The resident takes the held seat: the booking is confirmed (the seat was
/// counted when offered). 409 `offer_expired` once its time has passed.
pub fn accept(
    conn: &mut DbConnection,
    actor: Actor,
    id: BookingId,
    turnaround_minutes: i64,
) -> AppResult<BookingRow> {
    let (booking, session) = offered(conn, actor.organisation, id)?;
    if booking
        .offer_expires_at
        .is_some_and(|t| t <= Utc::now().naive_utc())
    {
        return Err(AppError::conflict(
            "offer_expired",
            "the offer's time has passed: the seat goes to the next in line",
        ));
    }
    if !queries::accept_offer(conn, id)? {
        return Err(AppError::conflict(
            "not_offered",
            "the offer was answered meanwhile",
        ));
    }
    pool::on_promotion(conn, id, session.id, turnaround_minutes)?;
    tell(conn, Kind::BookingPromoted, id, None, None)?;
    audit(
        conn,
        actor,
        "booking.accept_offer",
        id,
        format!("offered seat accepted ({})", booking.reference),
    )?;
    queries::find(conn, actor.organisation, id)?.ok_or_else(|| AppError::not_found("booking"))
}

/// The resident does not want the seat: the booking is cancelled and the
/// seat passes to the next in line.
pub fn decline(
    conn: &mut DbConnection,
    actor: Actor,
    id: BookingId,
    reason: &str,
    turnaround_minutes: i64,
) -> AppResult<(BookingRow, Freed)> {
    let (booking, session) = offered(conn, actor.organisation, id)?;
    let freed = give_up(conn, actor, &booking, &session, reason, turnaround_minutes)?;
    let row = queries::find_any(conn, id)?.ok_or_else(|| AppError::not_found("booking"))?;
    Ok((row, freed))
}

/// Cancels an offered booking and passes its seat on.
fn give_up(
    conn: &mut DbConnection,
    actor: Actor,
    booking: &BookingRow,
    session: &SessionRow,
    reason: &str,
    turnaround_minutes: i64,
) -> AppResult<Freed> {
    let by = actor.account;
    queries::cancel_by(conn, booking.id, reason, by)?;
    pool::release(conn, booking.id, session)?;
    audit(
        conn,
        actor,
        if by.is_some() {
            "booking.decline_offer"
        } else {
            "booking.offer_expired"
        },
        booking.id,
        format!("offer of {} ended: {reason}", booking.reference),
    )?;
    pass_on(
        conn,
        actor,
        session.id,
        &booking.reference,
        turnaround_minutes,
    )
}

/// The job: offers whose time ran out are cancelled and their seats pass
/// on, each in its own transaction (re-checked under the session lock, so
/// an answer that won the race stands).
pub fn expire_due(conn: &mut DbConnection, turnaround_minutes: i64) -> Result<usize, AppError> {
    let due = queries::expired_offers(conn, Utc::now().naive_utc(), 200)?;
    let mut done = 0;
    for (id, organisation, _) in due {
        let expired = write_tx(conn, |conn| -> AppResult<bool> {
            let (booking, session) = match offered(conn, organisation, id) {
                Ok(found) => found,
                Err(AppError::Client(c)) if c.code == "not_offered" => return Ok(false),
                Err(e) => return Err(e),
            };
            if booking
                .offer_expires_at
                .is_none_or(|t| t > Utc::now().naive_utc())
            {
                return Ok(false);
            }
            queries::record_event(conn, organisation, id, "offer_expired")?;
            tell(conn, Kind::OfferExpired, id, None, None)?;
            give_up(
                conn,
                Actor::system(organisation),
                &booking,
                &session,
                "the offered seat was not taken in time",
                turnaround_minutes,
            )?;
            Ok(true)
        })?;
        if expired {
            done += 1;
        }
    }
    Ok(done)
}

pub const LEASE: &str = "expire_offers";

pub fn job(interval_secs: u64, turnaround_minutes: i64) -> Job {
    Job {
        name: LEASE,
        every: Duration::from_secs(interval_secs),
        run: Box::new(move |conn| expire_due(conn, turnaround_minutes)),
    }
}
