//! Booking rules: taking a seat or a waitlist place atomically, cancelling
//! with promotion, walk-ins, attendance and closing a session.

use chrono::Utc;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::loaners as pool;
use super::offers::Freed;
use super::queries::{self, BookingWithResident};
use super::reference;
use super::types::{
    AttendanceMark, BookingRow, BookingStatus, Channel, NewBooking, NoLoaner, ResidentToCall,
};
use crate::auth::Caller;
use crate::auth::Role;
use crate::courses::eligibility::{Person, Verdict};
use crate::db::{AccountId, BookingId, DbConnection, OrganisationId, ResidentId, SessionId};
use crate::error::{AppError, AppResult, FieldError};
use crate::messages::compose::{self, BookingNote};
use crate::messages::types::Kind;
use crate::residents::queries as residents;
use crate::residents::types::ResidentRow;
use crate::schedule::queries as schedule;
use crate::schedule::types::SessionRow;
use crate::validate::{optional_text, required_text};

pub fn audit(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    actor: AccountId,
    action: &str,
    id: BookingId,
    summary: String,
) -> AppResult<()> {
    crate::audit::record(
        conn,
        crate::audit::Actor::staff(organisation, actor),
        action,
        "booking",
        id,
        summary,
    )?;
    Ok(())
}

pub fn session_of(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: SessionId,
) -> AppResult<SessionRow> {
    schedule::find_session(conn, organisation, id)?.ok_or_else(|| AppError::not_found("session"))
}

fn bookable(session: &SessionRow) -> AppResult<()> {
    if session.status != crate::schedule::types::SessionStatus::Scheduled {
        return Err(AppError::conflict(
            "session_not_bookable",
            format!("the session is {}", session.status),
        ));
    }
    Ok(())
}

pub(crate) fn resident_for(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: uuid::Uuid,
) -> AppResult<ResidentRow> {
    let resident = residents::find(conn, organisation, ResidentId(id))?
        .ok_or_else(|| AppError::invalid_field("resident_id", "no such resident"))?;
    bookable_resident(resident)
}

fn bookable_resident(resident: ResidentRow) -> AppResult<ResidentRow> {
    if let Some(survivor) = &resident.merged_into {
        return Err(AppError::invalid_field(
            "resident_id",
            format!("this record was merged into {survivor}"),
        ));
    }
    Ok(resident)
}

/// The caller may run this session: a coordinator or admin, or one of its
/// instructors.
pub fn may_run(conn: &mut DbConnection, caller: &Caller, session: SessionId) -> AppResult<()> {
    match caller.role {
        Role::Admin | Role::Coordinator => Ok(()),
        Role::Instructor
            if schedule::session_instructor_ids(conn, session)?.contains(&caller.account_id) =>
        {
            Ok(())
        }
        Role::Instructor => Err(AppError::forbidden(
            "not_your_session",
            "you do not teach this session",
        )),
        Role::Volunteer => Err(AppError::forbidden(
            "forbidden",
            "a volunteer may not do this",
        )),
    }
}

fn new_reference(conn: &mut DbConnection, organisation: OrganisationId) -> AppResult<String> {
    for _ in 0..10 {
        let code = reference::generate();
        if !queries::reference_taken(conn, organisation, &code)? {
            return Ok(code);
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "no free reference code after 10 tries"
    )))
}

pub(crate) fn already_booked() -> AppError {
    AppError::conflict(
        "already_booked",
        "this resident already holds a booking for this session",
    )
}

pub(crate) struct Seat {
    pub status: BookingStatus,
    pub waitlist_seq: Option<i32>,
    pub over_capacity: bool,
}

impl Seat {
    pub fn confirmed() -> Self {
        Seat {
            status: BookingStatus::Confirmed,
            waitlist_seq: None,
            over_capacity: false,
        }
    }
}

/// What a new booking row is made of, beyond its session and resident.
pub(crate) struct NewRow {
    /// A reference read beforehand; `None`: one is made now.
    pub reference: Option<String>,
    pub channel: Channel,
    pub needs_loaner: bool,
    pub notes: Option<String>,
    pub seat: Seat,
    pub window_override_reason: Option<String>,
    pub fee_exemption_reason: Option<String>,
    pub eligibility_override_reason: Option<String>,
    pub entered_by: AccountId,
}

/// Inserts a booking priced from its session: the class fee is due at
/// once, the loaner fee only once the pool reserves or lends a device
/// (`loaners::record` and `loaners::set_status` keep `fee_due_yen` true).
pub(crate) fn insert_booking(
    conn: &mut DbConnection,
    session: &SessionRow,
    resident: &ResidentRow,
    new: NewRow,
) -> AppResult<BookingRow> {
    let row = booking_row(conn, session, resident, new)?;
    insert_rows(conn, std::slice::from_ref(&row))?;
    Ok(row)
}

/// The row `insert_booking` inserts.
fn booking_row(
    conn: &mut DbConnection,
    session: &SessionRow,
    resident: &ResidentRow,
    new: NewRow,
) -> AppResult<BookingRow> {
    let now = Utc::now().naive_utc();
    let waived = new.fee_exemption_reason.is_some();
    let class_fee_yen = if waived { 0 } else { session.fee_yen };
    let row = BookingRow {
        id: BookingId::generate(),
        organisation_id: session.organisation_id,
        session_id: session.id,
        resident_id: resident.id,
        status: new.seat.status,
        channel: new.channel,
        reference: match new.reference {
            Some(r) => r,
            None => new_reference(conn, session.organisation_id)?,
        },
        needs_loaner: new.needs_loaner,
        notes: new.notes,
        waitlist_seq: new.seat.waitlist_seq,
        over_capacity: new.seat.over_capacity,
        fee_due_yen: class_fee_yen,
        window_override_reason: new.window_override_reason,
        entered_by: new.entered_by,
        cancel_reason: None,
        cancelled_by: None,
        cancelled_at: None,
        promoted_at: None,
        attendance: None,
        attendance_marked_by: None,
        attendance_marked_at: None,
        created_at: now,
        updated_at: now,
        enrolment_id: None,
        fee_exemption_reason: new.fee_exemption_reason,
        class_fee_yen,
        loaner_fee_yen: if waived { 0 } else { session.loaner_fee_yen },
        eligibility_override_reason: new.eligibility_override_reason,
        offered_at: None,
        offer_expires_at: None,
    };
    Ok(row)
}

/// Inserts booking rows in one statement; a second active booking of a
/// resident for a session is 409 `already_booked`.
fn insert_rows(conn: &mut DbConnection, rows: &[BookingRow]) -> AppResult<()> {
    queries::insert_all(conn, rows).map_err(|e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => already_booked(),
        other => other.into(),
    })
}

/// Rows a group of bookings inserts together just before its commit
/// (`bookings::group`): the booking and its audit entry of each booking
/// that claims no loaner and sends no mail; the others write theirs at
/// once. Two statements for the group instead of two per booking.
#[derive(Default)]
pub struct Later {
    bookings: Vec<BookingRow>,
    audit: Vec<crate::audit::types::AuditRow>,
}

impl Later {
    pub fn write(self, conn: &mut DbConnection) -> AppResult<()> {
        if !self.bookings.is_empty() {
            insert_rows(conn, &self.bookings)?;
        }
        crate::audit::record_all(conn, &self.audit)?;
        Ok(())
    }
}

/// The one rule every path that books with `needs_loaner` follows (a
/// booking, a walk-in, an enrolment): a confirmed seat reserves a free
/// device; a waitlisted seat waits for one with its seat; when none is free
/// the caller chose beforehand to book without one or to wait for one, and
/// without a choice it is 409 `no_loaner_available` and nothing is booked.
/// Returns whether the booking still needs a loaner and the claim to
/// record for it once inserted (`reserved` or `waitlisted`).
pub(crate) fn claim_loaner(
    conn: &mut DbConnection,
    session: &SessionRow,
    seat: BookingStatus,
    needs_loaner: bool,
    if_none_free: Option<NoLoaner>,
    turnaround_minutes: i64,
) -> AppResult<(bool, Option<&'static str>)> {
    if !needs_loaner {
        return Ok((false, None));
    }
    if seat != BookingStatus::Confirmed {
        // A waitlisted seat holds no device; it asks for one when promoted.
        return Ok((true, Some("waitlisted")));
    }
    if pool::available_for(conn, session, turnaround_minutes)? {
        return Ok((true, Some("reserved")));
    }
    match if_none_free {
        None => Err(no_loaner_available(session)),
        Some(NoLoaner::BookWithout) => Ok((false, None)),
        Some(NoLoaner::Waitlist) => Ok((true, Some("waitlisted"))),
    }
}

pub(crate) fn no_loaner_available(session: &SessionRow) -> AppError {
    AppError::conflict(
        "no_loaner_available",
        "no loaner device of this venue is free for this session: resend with \"if_no_loaner\": \"book_without\" to book the seat only, or \"waitlist\" to wait for a device",
    )
    .with_extension("session_id", serde_json::json!(session.id))
}

/// Whether the course admits the resident to this session: 409
/// `not_eligible` with the reason, or 409 `eligibility_unknown` naming the
/// missing fields (`missing`), unless `override_reason` is given.
pub(crate) fn check_eligibility(
    conn: &mut DbConnection,
    session: &SessionRow,
    resident: &ResidentRow,
    override_reason: Option<&str>,
) -> AppResult<()> {
    if override_reason.is_some() {
        return Ok(());
    }
    let course = crate::courses::queries::find(conn, session.organisation_id, session.course_id)?;
    check_rule(conn, session, course.as_ref(), resident, override_reason)
}

/// `check_eligibility` with the session's course already read.
fn check_rule(
    conn: &mut DbConnection,
    session: &SessionRow,
    course: Option<&crate::courses::types::CourseRow>,
    resident: &ResidentRow,
    override_reason: Option<&str>,
) -> AppResult<()> {
    let Some(course) = course.filter(|_| override_reason.is_none()) else {
        return Ok(());
    };
    let rule = course.eligibility();
    if rule.is_open() {
        return Ok(());
    }
    let tz = crate::calendar::timezone(conn, session.organisation_id)?;
    let on = session.starts_at.and_utc().with_timezone(&tz).date_naive();
    let person = Person {
        birth_year: resident.birth_year,
        age_band: resident.age_band.as_deref(),
        district: resident.district.as_deref(),
    };
    match rule.check(person, on) {
        Verdict::Eligible => Ok(()),
        Verdict::Ineligible(why) => Err(AppError::conflict(
            "not_eligible",
            format!("{why}; a coordinator may book them with override_eligibility_reason"),
        )
        .with_extension("session_id", serde_json::json!(session.id))),
        Verdict::Unknown(missing, why) => Err(AppError::conflict("eligibility_unknown", why)
            .with_extension("missing", serde_json::json!(missing))
            .with_extension("session_id", serde_json::json!(session.id))),
    }
}

/// A reason given for overriding a rule, checked (1–500 characters).
pub(crate) fn reason(field: &str, raw: Option<&str>) -> AppResult<Option<String>> {
    raw.map(|r| required_text(r, 500).map_err(|m| AppError::invalid_field(field, m)))
        .transpose()
}

fn utc_text(t: Option<chrono::NaiveDateTime>) -> String {
    t.map_or("-".to_owned(), |t| t.and_utc().to_rfc3339())
}

/// 409 `applications_closed`: a lottery between the end of its
/// applications and its draw takes nothing.
pub(crate) fn applications_closed(session: &SessionRow) -> AppError {
    AppError::conflict(
        "applications_closed",
        format!(
            "applications for this lottery closed at {}; the draw is at {}, then the seats left can be booked",
            utc_text(session.applications_close_at),
            utc_text(session.draw_at)
        ),
    )
    .with_extension("draw_at", serde_json::json!(utc_text(session.draw_at)))
}

/// 409 `lottery_pending`: seats of a lottery are given by its draw.
pub(crate) fn lottery_pending(session: &SessionRow) -> AppError {
    AppError::conflict(
        "lottery_pending",
        format!(
            "the seats of this session are given by a lottery drawn at {}; apply with a booking instead",
            utc_text(session.draw_at)
        ),
    )
    .with_extension("session_id", serde_json::json!(session.id))
}

/// What `book` made: the booking as stored, its waitlist position, the
/// resident and the booking's loaner state (`none`, `reserved`, `waitlisted`).
pub struct Booked {
    pub row: BookingRow,
    pub position: Option<i64>,
    pub resident: ResidentRow,
    pub loaner: String,
    /// The resident's recent no-shows, when there are enough to mention.
    pub warning: Option<super::types::BookingWarning>,
}

/// Books a seat, a waitlist place when the session is full, or an
/// application (`applied`) to a lottery before its draw. Call inside a
/// write transaction: `prepare`, then `commit`.
pub fn book(
    conn: &mut DbConnection,
    caller: &Caller,
    session_id: SessionId,
    req: &NewBooking,
    turnaround_minutes: i64,
    no_shows: NoShowRule,
) -> AppResult<Booked> {
    let mut prepared = prepare(conn, caller, session_id, req, no_shows)?;
    prepared.take_free_reference(conn)?;
    commit(conn, caller, &prepared, turnaround_minutes, None, None)
}

/// What a booking reads and checks before it takes anything: everything
/// that can be read is read here, before the session's lock (and, for a
/// grouped booking, before its transaction: `bookings::group`).
#[derive(Clone)]
pub struct Prepared {
    session: SessionRow,
    resident: ResidentRow,
    warning: Option<super::types::BookingWarning>,
    notes: Option<String>,
    override_reason: Option<String>,
    exemption: Option<String>,
    eligibility_override: Option<String>,
    reference: String,
    letter: Option<compose::BookingLetter>,
    channel: Channel,
    needs_loaner: bool,
    if_no_loaner: Option<NoLoaner>,
}

impl Prepared {
    pub fn session_id(&self) -> SessionId {
        self.session.id
    }

    /// Replaces the reference code with one no booking of the organisation
    /// holds yet (one read). Without it the unique index refuses a taken
    /// code at insert and the transaction fails: a group then runs each of
    /// its bookings alone, after this.
    pub fn take_free_reference(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        self.reference = new_reference(conn, self.session.organisation_id)?;
        Ok(())
    }
}

/// The reads and checks of a booking (`book`'s first half): the 404, 409
/// and 422 answers that need no lock come from here, and nothing is
/// written.
pub fn prepare(
    conn: &mut DbConnection,
    caller: &Caller,
    session_id: SessionId,
    req: &NewBooking,
    no_shows: NoShowRule,
) -> AppResult<Prepared> {
    let session = queries::session_with_course(conn, caller.organisation_id, session_id)?;
    let resident = match session {
        // The session's 404 comes first.
        None => None,
        Some(_) => queries::resident_with_no_shows(
            conn,
            caller.organisation_id,
            ResidentId(req.resident_id),
            no_shows.since(),
        )?,
    };
    prepare_from(conn, caller, session, resident, req, no_shows)
}

/// A session with its course, as a booking reads it.
pub type SessionRead = (SessionRow, Option<crate::courses::types::CourseRow>);
/// A resident with the start instants of their recent no-shows.
pub type ResidentRead = (ResidentRow, Vec<chrono::NaiveDateTime>);

/// `prepare` with the session and the resident already read (`None`: not
/// found in the caller's organisation); a group reads those of all its
/// bookings in two statements (`bookings::group`).
pub fn prepare_from(
    conn: &mut DbConnection,
    caller: &Caller,
    session: Option<SessionRead>,
    resident: Option<ResidentRead>,
    req: &NewBooking,
    no_shows: NoShowRule,
) -> AppResult<Prepared> {
    let (session, course) = session.ok_or_else(|| AppError::not_found("session"))?;
    bookable(&session)?;
    let (resident, missed) =
        resident.ok_or_else(|| AppError::invalid_field("resident_id", "no such resident"))?;
    let resident = bookable_resident(resident)?;
    let warning = no_shows.warning(conn, caller.organisation_id, &missed)?;
    let notes = optional_text(req.notes.as_deref(), 1000)
        .map_err(|m| AppError::invalid_field("notes", m))?;
    let override_reason = reason(
        "override_window_reason",
        req.override_window_reason.as_deref(),
    )?;
    let exemption = reason("fee_exemption_reason", req.fee_exemption_reason.as_deref())?;
    let eligibility_override = reason(
        "override_eligibility_reason",
        req.override_eligibility_reason.as_deref(),
    )?;
    let now = Utc::now().naive_utc();
    if override_reason.is_none() {
        if session.booking_opens_at.is_some_and(|t| now < t) {
            return Err(AppError::conflict(
                "booking_not_open",
                "booking for this session has not opened yet; a coordinator may override with a reason",
            ));
        }
        if session.booking_closes_at.is_some_and(|t| now > t) {
            return Err(AppError::conflict(
                "booking_closed",
                "booking for this session has closed; a coordinator may override with a reason",
            ));
        }
    }
    // One active booking per resident and session: the partial unique index
    // refuses the insert below (409 `already_booked`, the transaction rolls
    // back), so no read is spent on it here.
    check_rule(
        conn,
        &session,
        course.as_ref(),
        &resident,
        eligibility_override.as_deref(),
    )?;
    // Not checked yet: `take_free_reference`, or a group's commit.
    let reference = reference::generate();
    let letter =
        compose::BookingLetter::prepare(conn, session.organisation_id, session.id, &resident)?;
    Ok(Prepared {
        session,
        resident,
        warning,
        notes,
        override_reason,
        exemption,
        eligibility_override,
        reference,
        letter,
        channel: req.channel,
        needs_loaner: req.needs_loaner,
        if_no_loaner: req.if_no_loaner,
    })
}

/// Takes the seat, waitlist place or application that `prepare` made ready
/// (`book`'s second half), inside a write transaction. Its first statement
/// locks the session row until the commit, so what follows are only the
/// writes: the seat, the booking, its loaner claim if any, its mail if any,
/// and the audit entry (docs/benchmarks.md). It may run more than once for
/// one `Prepared`: a group that rolled back runs each of its bookings alone.
///
/// `place` is a seat or waitlist place a group already counted for this
/// booking under the session's lock (`queries::lock_counters`); `None`: the
/// booking takes its own here.
pub fn commit(
    conn: &mut DbConnection,
    caller: &Caller,
    prepared: &Prepared,
    turnaround_minutes: i64,
    place: Option<queries::Place>,
    later: Option<&mut Later>,
) -> AppResult<Booked> {
    let session = &prepared.session;
    let resident = &prepared.resident;
    let now = Utc::now().naive_utc();

    // From here the session row is locked until the commit.
    //
    // A lottery before its draw takes applications, not seats. Counting the
    // application checks in the same statement that the draw has not run
    // and applications are open; if the draw won the race, the session is
    // first come from now on.
    let applied = place.is_none() && session.awaits_draw() && {
        if queries::add_application(conn, session.id, now)? {
            true
        } else {
            let fresh = session_of(conn, caller.organisation_id, session.id)?;
            if fresh.awaits_draw() {
                return Err(applications_closed(&fresh));
            }
            false
        }
    };
    let (seat, position) = if let Some(place) = place {
        match place {
            queries::Place::Seat => (Seat::confirmed(), None),
            queries::Place::Waitlist { position, seq } => (
                Seat {
                    status: BookingStatus::Waitlisted,
                    waitlist_seq: Some(seq),
                    over_capacity: false,
                },
                Some(position),
            ),
        }
    } else if applied {
        (
            Seat {
                status: BookingStatus::Applied,
                waitlist_seq: None,
                over_capacity: false,
            },
            None,
        )
    } else if queries::take_seat(conn, session.id)? {
        (Seat::confirmed(), None)
    } else if session.waitlist_enabled {
        // No seat: full, or no longer scheduled since `prepare` read it.
        let (position, seq) = queries::join_waitlist(conn, session.id)?.ok_or_else(|| {
            AppError::conflict("session_not_bookable", "the session is no longer scheduled")
        })?;
        (
            Seat {
                status: BookingStatus::Waitlisted,
                waitlist_seq: Some(seq),
                over_capacity: false,
            },
            Some(position),
        )
    } else {
        return Err(AppError::conflict(
            "session_full",
            format!(
                "all {} seats are taken and this session has no waitlist",
                session.capacity
            ),
        ));
    };
    let (needs_loaner, loaner) = claim_loaner(
        conn,
        session,
        seat.status,
        prepared.needs_loaner,
        prepared.if_no_loaner,
        turnaround_minutes,
    )?;
    let new = NewRow {
        reference: Some(prepared.reference.clone()),
        channel: prepared.channel,
        needs_loaner,
        notes: prepared.notes.clone(),
        seat,
        window_override_reason: prepared.override_reason.clone(),
        fee_exemption_reason: prepared.exemption.clone(),
        eligibility_override_reason: prepared.eligibility_override.clone(),
        entered_by: caller.account_id,
    };
    let audit_summary = |row: &BookingRow| {
        format!(
            "{} {} by {} ({})",
            resident.display_name(),
            row.status,
            row.channel,
            row.reference
        )
    };
    // A booking with nothing to write after its row leaves its row and
    // audit entry to the group's two inserts before the commit.
    if let Some(later) = later.filter(|_| loaner.is_none() && prepared.letter.is_none()) {
        let row = booking_row(conn, session, resident, new)?;
        later.audit.push(crate::audit::entry(
            caller,
            "booking.create",
            "booking",
            row.id,
            audit_summary(&row),
        ));
        later.bookings.push(row.clone());
        return Ok(Booked {
            row,
            position,
            resident: resident.clone(),
            loaner: pool::label(None),
            warning: prepared.warning.clone(),
        });
    }
    let mut row = insert_booking(conn, session, resident, new)?;
    if let Some(status) = loaner {
        pool::record(conn, session, row.id, status, turnaround_minutes)?;
        // The claim sets what is due (a reserved device adds its fee).
        row = queries::find_any(conn, row.id)?.ok_or_else(|| AppError::not_found("booking"))?;
    }
    let loaner = pool::label(loaner);
    if let Some(letter) = prepared.letter.clone() {
        letter.send(
            conn,
            &BookingNote {
                kind: match row.status {
                    BookingStatus::Confirmed => Kind::BookingConfirmed,
                    BookingStatus::Applied => Kind::ApplicationReceived,
                    _ => Kind::BookingWaitlisted,
                },
                organisation: row.organisation_id,
                booking: row.id,
                session: row.session_id,
                resident: row.resident_id,
                reference: &row.reference,
                fee_due: row.fee_due_yen,
                loaner: &loaner,
                waitlist_position: position,
                reason: None,
                moved_from: None,
                offer_until: None,
            },
        )?;
    }
    audit(
        conn,
        caller.organisation_id,
        caller.account_id,
        "booking.create",
        row.id,
        audit_summary(&row),
    )?;
    Ok(Booked {
        row,
        position,
        resident: resident.clone(),
        loaner,
        warning: prepared.warning.clone(),
    })
}

/// Cancels a booking; a freed seat goes to the first waitlisted booking in
/// the same transaction, recorded as a `promoted` event for the mail outbox.
pub fn cancel(
    conn: &mut DbConnection,
    caller: &Caller,
    id: BookingId,
    reason: &str,
    turnaround_minutes: i64,
    tell_resident: bool,
) -> AppResult<(BookingRow, Freed)> {
    let booking = queries::find(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("booking"))?;
    crate::db::locks::session(conn, booking.session_id)?;
    // Re-read under the lock: a parallel cancel may have won.
    let booking = queries::find(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("booking"))?;
    let from = booking.status;
    if !from.can_become(BookingStatus::Cancelled) {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("a {} booking cannot be cancelled", booking.status),
        ));
    }
    queries::cancel(conn, id, reason, caller.account_id)?;
    let session = session_of(conn, caller.organisation_id, booking.session_id)?;
    pool::release(conn, id, &session)?;
    let freed = match from {
        BookingStatus::Confirmed | BookingStatus::Offered => super::offers::pass_on(
            conn,
            crate::audit::Actor::staff(caller.organisation_id, caller.account_id),
            session.id,
            &booking.reference,
            turnaround_minutes,
        )?,
        BookingStatus::Waitlisted => {
            queries::leave_waitlist(conn, booking.session_id)?;
            Freed::Released
        }
        BookingStatus::Applied => {
            queries::leave_applications(conn, booking.session_id)?;
            Freed::Released
        }
        BookingStatus::Cancelled => Freed::Released,
    };
    if tell_resident {
        tell(conn, Kind::BookingCancelled, id, None, Some(reason))?;
    }
    audit(
        conn,
        caller.organisation_id,
        caller.account_id,
        "booking.cancel",
        id,
        format!("cancelled {}: {reason}", booking.reference),
    )?;
    let row = queries::find(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("booking"))?;
    Ok((row, freed))
}

/// Cancels every booking of a cancelled session; the residents to call.
pub fn cancel_for_session(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    actor: AccountId,
    session: SessionId,
    reason: &str,
) -> AppResult<Vec<ResidentToCall>> {
    crate::db::locks::session(conn, session)?;
    pool::release_session(conn, session)?;
    let cancelled = queries::cancel_all(
        conn,
        session,
        &format!("session cancelled: {reason}"),
        actor,
    )?;
    let mut to_call = Vec::new();
    for (booking, resident) in cancelled {
        queries::record_event(conn, organisation, booking.id, "session_cancelled")?;
        tell(conn, Kind::SessionCancelled, booking.id, None, Some(reason))?;
        to_call.push(ResidentToCall {
            booking_id: booking.id,
            reference: booking.reference.clone(),
            resident: queries::resident_ref(&resident),
            was: booking.status,
        });
    }
    Ok(to_call)
}

/// Adds a walk-in as a present `walk_in` booking; beyond capacity only when
/// asked explicitly.
/// Who walked in: someone in the register, or a newcomer registered on the
/// spot with names and kana only.
pub enum WalkInWho {
    Registered(ResidentId),
    New(Box<crate::residents::types::ResidentChanges>),
}

/// Adds a walk-in, registering a newcomer first (no duplicate check: they
/// are standing in the room). Must run inside a write transaction.
pub fn walk_in_anyone(
    conn: &mut DbConnection,
    caller: &Caller,
    session_id: SessionId,
    who: WalkInWho,
    loaner: WalkInLoaner,
    over_capacity: bool,
) -> AppResult<BookingRow> {
    may_run(conn, caller, session_id)?;
    let resident = match who {
        WalkInWho::Registered(id) => residents::find(conn, caller.organisation_id, id)?
            .ok_or_else(|| AppError::invalid_field("resident_id", "no such resident"))?,
        WalkInWho::New(changes) => crate::residents::service::create(
            conn,
            caller.organisation_id,
            caller.account_id,
            *changes,
            true,
        )?,
    };
    walk_in(conn, caller, session_id, &resident, loaner, over_capacity)
}

/// A walk-in's wish for a loaner and what to do when none is free.
#[derive(Debug, Clone, Copy)]
pub struct WalkInLoaner {
    pub needs_loaner: bool,
    pub if_none_free: Option<NoLoaner>,
    pub turnaround_minutes: i64,
}

pub fn walk_in(
    conn: &mut DbConnection,
    caller: &Caller,
    session_id: SessionId,
    resident: &ResidentRow,
    loaner: WalkInLoaner,
    over_capacity: bool,
) -> AppResult<BookingRow> {
    let session = session_of(conn, caller.organisation_id, session_id)?;
    bookable(&session)?;
    if session.awaits_draw() {
        return Err(lottery_pending(&session));
    }
    if queries::active_booking(conn, session.id, resident.id)?.is_some() {
        return Err(already_booked());
    }
    let seat = if queries::take_seat(conn, session.id)? {
        Seat::confirmed()
    } else if over_capacity {
        queries::take_extra_seat(conn, session.id)?;
        Seat {
            status: BookingStatus::Confirmed,
            waitlist_seq: None,
            over_capacity: true,
        }
    } else {
        return Err(AppError::conflict(
            "session_full",
            "the session is full: resend with over_capacity: true to seat them anyway",
        ));
    };
    // The same pool rules as a booking: a phone only if one is free, else
    // the walk-in's stated choice, else 409 and nothing is seated.
    let (needs_loaner, claim) = claim_loaner(
        conn,
        &session,
        seat.status,
        loaner.needs_loaner,
        loaner.if_none_free,
        loaner.turnaround_minutes,
    )?;
    let row = insert_booking(
        conn,
        &session,
        resident,
        NewRow {
            reference: None,
            channel: Channel::WalkIn,
            needs_loaner,
            notes: None,
            seat,
            window_override_reason: None,
            fee_exemption_reason: None,
            eligibility_override_reason: None,
            entered_by: caller.account_id,
        },
    )?;
    if let Some(status) = claim {
        pool::record(conn, &session, row.id, status, loaner.turnaround_minutes)?;
    }
    queries::set_attendance(conn, row.id, "present", caller.account_id)?;
    audit(
        conn,
        caller.organisation_id,
        caller.account_id,
        "booking.walk_in",
        row.id,
        format!("walk-in {} ({})", resident.display_name(), row.reference),
    )?;
    Ok(row)
}

/// Applies attendance marks to confirmed bookings of the session, all or none.
pub fn mark(
    conn: &mut DbConnection,
    caller: &Caller,
    session_id: SessionId,
    marks: &[AttendanceMark],
    opens_minutes_before: i64,
) -> AppResult<usize> {
    let session = session_of(conn, caller.organisation_id, session_id)?;
    if session.status == crate::schedule::types::SessionStatus::Cancelled {
        return Err(AppError::conflict(
            "invalid_state",
            "the session is cancelled",
        ));
    }
    let opens = session.starts_at - chrono::Duration::minutes(opens_minutes_before);
    if Utc::now().naive_utc() < opens {
        return Err(AppError::conflict(
            "attendance_not_open",
            format!(
                "attendance opens {opens_minutes_before} minutes before the session starts ({} UTC)",
                session.starts_at.and_utc().to_rfc3339()
            ),
        ));
    }
    if marks.is_empty() || marks.len() > 500 {
        return Err(AppError::invalid_field("marks", "give 1 to 500 marks"));
    }
    let bookings: Vec<BookingWithResident> = queries::of_session(conn, session.id)?;
    let mut errors = Vec::new();
    for (i, m) in marks.iter().enumerate() {
        let ok = bookings.iter().any(|(b, _)| {
            b.id.0 == m.booking_id && b.status == crate::bookings::types::BookingStatus::Confirmed
        });
        if !ok {
            errors.push(FieldError::new(
                format!("marks[{i}].booking_id"),
                "not a confirmed booking of this session",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    for m in marks {
        queries::set_attendance(
            conn,
            BookingId(m.booking_id),
            m.attendance.as_str(),
            caller.account_id,
        )?;
    }
    crate::audit::record(
        conn,
        caller,
        "attendance.mark",
        "session",
        session.id.to_string(),
        format!("{} attendance mark(s)", marks.len()),
    )?;
    Ok(marks.len())
}

/// Closes a session: unmarked confirmed bookings become no-shows and the
/// session is completed.
pub fn close(conn: &mut DbConnection, caller: &Caller, session_id: SessionId) -> AppResult<usize> {
    let session = session_of(conn, caller.organisation_id, session_id)?;
    crate::db::locks::session(conn, session.id)?;
    if session.status != crate::schedule::types::SessionStatus::Scheduled {
        return Err(AppError::conflict(
            "invalid_state",
            format!("the session is {}", session.status),
        ));
    }
    // Before the start nobody can be a no-show yet.
    if Utc::now().naive_utc() < session.starts_at {
        return Err(AppError::conflict(
            "session_not_started",
            "a session can be closed once it has started",
        ));
    }
    let no_shows = queries::mark_no_shows(conn, session.id, caller.account_id)?;
    schedule::update_session(
        conn,
        session.id,
        schedule::SessionChanges {
            status: Some(crate::schedule::types::SessionStatus::Completed),
            ..Default::default()
        },
    )?;
    crate::audit::record(
        conn,
        caller,
        "session.close",
        "session",
        session.id.to_string(),
        format!("closed; {no_shows} no-show(s)"),
    )?;
    Ok(no_shows)
}

/// Tells the resident of a booking about `kind`, from the booking as it now
/// stands in this transaction (a mail, a call, or nothing: see
/// `messages::compose`).
pub(crate) fn tell(
    conn: &mut DbConnection,
    kind: Kind,
    booking: BookingId,
    waitlist_position: Option<i64>,
    reason: Option<&str>,
) -> AppResult<()> {
    tell_moved(conn, kind, booking, waitlist_position, reason, None)
}

fn tell_moved(
    conn: &mut DbConnection,
    kind: Kind,
    booking: BookingId,
    waitlist_position: Option<i64>,
    reason: Option<&str>,
    moved_from: Option<(chrono::NaiveDateTime, chrono::NaiveDateTime)>,
) -> AppResult<()> {
    let row = queries::find_any(conn, booking)?.ok_or_else(|| AppError::not_found("booking"))?;
    let loaner = pool::label(pool::status_of(conn, booking)?.as_deref());
    compose::booking(
        conn,
        &BookingNote {
            kind,
            organisation: row.organisation_id,
            booking,
            session: row.session_id,
            resident: row.resident_id,
            reference: &row.reference,
            fee_due: row.fee_due_yen,
            loaner: &loaner,
            waitlist_position,
            reason,
            moved_from,
            offer_until: row
                .offer_expires_at
                .filter(|_| row.status == BookingStatus::Offered),
        },
    )
}

/// The schedule's `SessionMoved` hook: everyone booked (or waiting) for the
/// session hears where and when it now is.
pub fn tell_session_moved(
    conn: &mut DbConnection,
    _ctx: &crate::schedule::service::Context,
    session: SessionId,
    from: (chrono::NaiveDateTime, chrono::NaiveDateTime),
) -> AppResult<()> {
    for (booking, _) in queries::of_session(conn, session)? {
        if booking.status != BookingStatus::Cancelled {
            tell_moved(conn, Kind::SessionMoved, booking.id, None, None, Some(from))?;
        }
    }
    Ok(())
}

/// The warning staff get when booking someone who often does not come:
/// `count` or more no-shows in the last `months` (dates in the
/// organisation's time). Never a refusal.
pub fn no_show_warning(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    resident: ResidentId,
    count: i64,
    months: u32,
) -> AppResult<Option<super::types::BookingWarning>> {
    let rule = NoShowRule { count, months };
    let missed = queries::no_shows_since(conn, resident, rule.since())?;
    rule.warning(conn, organisation, &missed)
}

/// When a resident's recent no-shows are worth a warning at booking
/// (`attendance.no_show_warning_count` in `attendance.no_show_months`).
#[derive(Debug, Clone, Copy)]
pub struct NoShowRule {
    pub count: i64,
    pub months: u32,
}

impl NoShowRule {
    pub fn since(&self) -> chrono::NaiveDateTime {
        Utc::now()
            .naive_utc()
            .checked_sub_months(chrono::Months::new(self.months))
            .unwrap_or_default()
    }

    /// The warning for these no-shows (start instants since `since`), if
    /// there are enough of them.
    pub fn warning(
        &self,
        conn: &mut DbConnection,
        organisation: OrganisationId,
        missed: &[chrono::NaiveDateTime],
    ) -> AppResult<Option<super::types::BookingWarning>> {
        let (count, months) = (self.count, self.months);
        if count <= 0 || (missed.len() as i64) < count {
            return Ok(None);
        }
        let tz = crate::calendar::timezone(conn, organisation)?;
        let dates: Vec<chrono::NaiveDate> = missed
            .iter()
            .map(|t| t.and_utc().with_timezone(&tz).date_naive())
            .collect();
        Ok(Some(super::types::BookingWarning {
            code: "recent_no_shows".into(),
            message: format!(
                "{} no-show(s) in the last {months} months: {}",
                dates.len(),
                dates
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            dates,
        }))
    }
}
