//! Turning a change into a message, inside the change's transaction: a mail
//! in the outbox for a resident who wants mail (an address, preference
//! `email` and consent to be contacted), otherwise — for what they must
//! hear about — an item on the staff's call list. Letters are written from
//! rows read in the same transaction, so nothing is said that the change
//! did not commit, and nothing is said if it rolls back.

use chrono::{NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::letters::{self, Facts, SessionLine};
use super::queries;
use super::types::{CallRow, CallStatus, Kind, MailStatus, OutboxRow};
use crate::db::{
    BookingId, DbConnection, OrganisationId, ResidentId, SessionId, TicketId, VenueId,
};
use crate::error::{AppError, AppResult};
use crate::residents::types::ResidentRow;

/// A booking event to tell the resident about.
#[derive(Debug, Clone)]
pub struct BookingNote<'a> {
    pub kind: Kind,
    pub organisation: OrganisationId,
    pub booking: BookingId,
    pub session: SessionId,
    pub resident: ResidentId,
    pub reference: &'a str,
    pub fee_due: i32,
    /// The booking's loaner state (`reserved`, `waitlisted`, …).
    pub loaner: &'a str,
    pub waitlist_position: Option<i64>,
    pub reason: Option<&'a str>,
    /// Where the session was before it moved: (start, end) in UTC.
    pub moved_from: Option<(NaiveDateTime, NaiveDateTime)>,
    /// Until when an offered seat is held (UTC).
    pub offer_until: Option<NaiveDateTime>,
}

/// A consultation event to tell the requester about.
#[derive(Debug, Clone)]
pub struct TicketNote<'a> {
    pub kind: Kind,
    pub organisation: OrganisationId,
    pub ticket: TicketId,
    /// The question came in writing (email, web): answer where it came from.
    pub written: bool,
    pub contact_email: Option<&'a str>,
    pub contact_name: Option<&'a str>,
    pub resident: Option<ResidentId>,
    pub venue: Option<VenueId>,
    pub subject: &'a str,
    pub reply: Option<&'a str>,
}

/// How a resident hears about something.
enum Route {
    Mail(String),
    Call,
    Nothing,
}

/// Mail only with an address, preference `email` and consent; calls for
/// what a resident must know (promotions, cancelled or moved sessions,
/// answers to their questions) and for reminders of residents who asked
/// for calls and consented to contact.
fn route(resident: &ResidentRow, kind: Kind) -> Route {
    if resident.consent_contact
        && resident.contact_preference == "email"
        && let Some(email) = &resident.email
    {
        return Route::Mail(email.clone());
    }
    match kind {
        Kind::BookingPromoted
        | Kind::SessionCancelled
        | Kind::SessionMoved
        | Kind::TicketReply
        | Kind::LotteryWon
        | Kind::LotteryWaitlisted
        | Kind::LotteryNotDrawn
        | Kind::SeatOffered => Route::Call,
        Kind::Reminder if resident.consent_contact && resident.contact_preference == "phone" => {
            Route::Call
        }
        _ => Route::Nothing,
    }
}

/// What every letter of the organisation carries, and its timezone.
fn organisation_facts(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> AppResult<(Facts, Tz)> {
    let org = crate::organisations::queries::get(conn, organisation)?;
    let tz: Tz = org.timezone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
    Ok((
        Facts {
            organisation: org.name,
            contact_phone: org.contact_phone.unwrap_or_default(),
            signature: org.mail_signature.unwrap_or_default(),
            ..Default::default()
        },
        tz,
    ))
}

/// Fills course, time, venue, room and address; the session's venue.
fn session_facts(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    session: SessionId,
    tz: &Tz,
    f: &mut Facts,
) -> AppResult<VenueId> {
    let s = crate::schedule::queries::find_session(conn, organisation, session)?
        .ok_or_else(|| AppError::not_found("session"))?;
    let venue = crate::venues::queries::find(conn, organisation, s.venue_id)?
        .ok_or_else(|| AppError::not_found("venue"))?;
    let course = crate::courses::queries::find(conn, organisation, s.course_id)?
        .ok_or_else(|| AppError::not_found("course"))?;
    f.course = course.title;
    f.when = letters::when(s.starts_at.and_utc(), s.ends_at.and_utc(), tz);
    f.venue = venue.name;
    f.address = venue.address.unwrap_or_default();
    f.room = s.room.or(venue.room).unwrap_or_default();
    Ok(s.venue_id)
}

fn resident(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: ResidentId,
) -> AppResult<ResidentRow> {
    crate::residents::queries::find(conn, organisation, id)?
        .ok_or_else(|| AppError::not_found("resident"))
}

#[allow(clippy::too_many_arguments)]
fn mail(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    kind: Kind,
    to: String,
    resident: Option<ResidentId>,
    booking: Option<BookingId>,
    ticket: Option<TicketId>,
    f: &Facts,
) -> AppResult<()> {
    let (subject, body) = letters::mail(kind, f)?;
    let id = uuid::Uuid::now_v7();
    let now = Utc::now().naive_utc();
    queries::insert_mail(
        conn,
        &OutboxRow {
            id: id.to_string(),
            organisation_id: organisation,
            kind,
            resident_id: resident,
            booking_id: booking,
            ticket_id: ticket,
            recipient: to,
            subject,
            body,
            message_id: format!("<{id}@madoguchi>"),
            status: MailStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            sent_at: None,
        },
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn call(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    tz: &Tz,
    kind: Kind,
    resident: ResidentId,
    venue: Option<VenueId>,
    booking: Option<BookingId>,
    ticket: Option<TicketId>,
    f: &Facts,
) -> AppResult<()> {
    let script = letters::call_script(f)?;
    queries::insert_call(
        conn,
        &CallRow {
            id: uuid::Uuid::now_v7().to_string(),
            organisation_id: organisation,
            resident_id: resident,
            venue_id: venue,
            reason: kind,
            booking_id: booking,
            ticket_id: ticket,
            script,
            status: CallStatus::Open,
            tries: 0,
            due_on: crate::calendar::today(*tz),
            last_outcome: None,
            last_note: None,
            created_at: Utc::now().naive_utc(),
            closed_at: None,
        },
    )?;
    Ok(())
}

/// What a booking letter says about the booking itself.
fn fill_booking(f: &mut Facts, note: &BookingNote<'_>) {
    f.kind = note.kind.as_str().to_owned();
    f.reference = letters::spaced(note.reference);
    f.reading = letters::reading(note.reference);
    f.fee = note.fee_due;
    f.loaner = match note.loaner {
        "reserved" | "out" => "reserved".into(),
        "waitlisted" => "waiting".into(),
        _ => String::new(),
    };
    f.position = note.waitlist_position.unwrap_or(0);
}

/// Tells the resident about a booking event: a mail, a call, or nothing.
pub fn booking(conn: &mut DbConnection, note: &BookingNote<'_>) -> AppResult<()> {
    let who = resident(conn, note.organisation, note.resident)?;
    let route = route(&who, note.kind);
    if matches!(route, Route::Nothing) {
        return Ok(());
    }
    let (mut f, tz) = organisation_facts(conn, note.organisation)?;
    let venue = session_facts(conn, note.organisation, note.session, &tz, &mut f)?;
    f.resident = who.display_name();
    fill_booking(&mut f, note);
    if let Some(until) = note.offer_until {
        f.offer_until = letters::at(until.and_utc(), &tz);
    }
    f.reason = note.reason.unwrap_or_default().to_owned();
    if let Some((start, end)) = note.moved_from {
        f.old_when = letters::when(start.and_utc(), end.and_utc(), &tz);
    }
    match route {
        Route::Mail(to) => mail(
            conn,
            note.organisation,
            note.kind,
            to,
            Some(who.id),
            Some(note.booking),
            None,
            &f,
        ),
        Route::Call => call(
            conn,
            note.organisation,
            &tz,
            note.kind,
            who.id,
            Some(venue),
            Some(note.booking),
            None,
            &f,
        ),
        Route::Nothing => Ok(()),
    }
}

/// A booking mail read before the seat is taken: what the letter says
/// that does not depend on the outcome (organisation, course, time, venue,
/// the resident's name), so that only its insert happens while the session
/// row is locked. `None` (no reads at all) for a resident who gets no mail
/// about a booking they just made on the phone.
#[derive(Clone)]
pub struct BookingLetter {
    to: String,
    facts: Facts,
}

impl BookingLetter {
    pub fn prepare(
        conn: &mut DbConnection,
        organisation: OrganisationId,
        session: SessionId,
        who: &ResidentRow,
    ) -> AppResult<Option<BookingLetter>> {
        // A new booking, waitlist place or application is told by mail only.
        let Route::Mail(to) = route(who, Kind::BookingConfirmed) else {
            return Ok(None);
        };
        let (mut facts, tz) = organisation_facts(conn, organisation)?;
        session_facts(conn, organisation, session, &tz, &mut facts)?;
        facts.resident = who.display_name();
        Ok(Some(BookingLetter { to, facts }))
    }

    /// Writes the mail for the booking as it now stands.
    pub fn send(self, conn: &mut DbConnection, note: &BookingNote<'_>) -> AppResult<()> {
        let mut f = self.facts;
        fill_booking(&mut f, note);
        mail(
            conn,
            note.organisation,
            note.kind,
            self.to,
            Some(note.resident),
            Some(note.booking),
            None,
            &f,
        )
    }
}

/// One booking of an enrolment letter: (booking, session, reference, fee).
pub type EnrolledSession<'a> = (BookingId, SessionId, &'a str, i32);

/// One letter for a whole enrolment, listing every session booked.
pub fn enrolment(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    resident_id: ResidentId,
    sessions: &[EnrolledSession<'_>],
) -> AppResult<()> {
    let who = resident(conn, organisation, resident_id)?;
    let Route::Mail(to) = route(&who, Kind::EnrolmentConfirmed) else {
        return Ok(());
    };
    let Some(&(first_booking, first, _, fee)) = sessions.first() else {
        return Ok(());
    };
    let (mut f, tz) = organisation_facts(conn, organisation)?;
    session_facts(conn, organisation, first, &tz, &mut f)?;
    f.kind = Kind::EnrolmentConfirmed.as_str().to_owned();
    f.resident = who.display_name();
    f.fee = fee;
    for &(_, session, reference, _) in sessions {
        let mut line = Facts::default();
        session_facts(conn, organisation, session, &tz, &mut line)?;
        f.sessions.push(SessionLine {
            when: line.when,
            venue: line.venue,
            reference: letters::spaced(reference),
        });
    }
    mail(
        conn,
        organisation,
        Kind::EnrolmentConfirmed,
        to,
        Some(who.id),
        Some(first_booking),
        None,
        &f,
    )
}

/// Tells the requester about a consultation: written questions are
/// answered where they came from; a resident's answer otherwise follows
/// their preference (a call when they have no email).
pub fn ticket(conn: &mut DbConnection, note: &TicketNote<'_>) -> AppResult<()> {
    let who = match note.resident {
        Some(id) => Some(resident(conn, note.organisation, id)?),
        None => None,
    };
    let route = match (note.written, note.contact_email, &who) {
        (true, Some(email), _) => Route::Mail(email.to_owned()),
        (_, _, Some(r)) => route(r, note.kind),
        _ => Route::Nothing,
    };
    if matches!(route, Route::Nothing) {
        return Ok(());
    }
    let (mut f, tz) = organisation_facts(conn, note.organisation)?;
    f.kind = note.kind.as_str().to_owned();
    f.resident = who
        .as_ref()
        .map(ResidentRow::display_name)
        .or(note.contact_name.map(str::to_owned))
        .unwrap_or_else(|| "ご相談者".to_owned());
    f.subject = note.subject.to_owned();
    f.reply = note.reply.unwrap_or_default().to_owned();
    f.reference = note.ticket.to_string()[..8].to_uppercase();
    match (route, who) {
        (Route::Mail(to), who) => mail(
            conn,
            note.organisation,
            note.kind,
            to,
            who.map(|w| w.id),
            None,
            Some(note.ticket),
            &f,
        ),
        (Route::Call, Some(who)) => call(
            conn,
            note.organisation,
            &tz,
            note.kind,
            who.id,
            note.venue,
            None,
            Some(note.ticket),
            &f,
        ),
        _ => Ok(()),
    }
}
