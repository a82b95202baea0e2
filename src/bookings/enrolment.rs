//! Course enrolment: a promise that the resident has a seat in every session
//! of a series (or of every series of a course, 前期 and 後期), not only
//! those stored today.
//!
//! Enrolling books every remaining stored session, all seats or none. When
//! the schedule stores more sessions later (the extending job, a series
//! edit, a new series of an enrolled course), `keep_promises` books each
//! active enrolment into them in the same transaction, all or none per
//! enrolment; a session that cannot seat the resident is never skipped
//! silently: it becomes an open conflict on the coordinators' list and an
//! audit entry. Withdrawing cancels the future bookings (each freed seat
//! goes to its waitlist).

use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::enrolment_queries::{self as rows, ConflictRow, CourseEnrolmentRow, EnrolmentRow};
use super::loaners as pool;
use super::queries;
use super::service::{self, NewRow, Seat};
use super::types::{Booking, BookingRow, BookingStatus, Channel, NoLoaner, ResidentRef};
use crate::audit::Actor;
use crate::auth::Caller;
use crate::db::{
    AccountId, CourseEnrolmentId, CourseId, DbConnection, EnrolmentConflictId, EnrolmentId,
    OrganisationId, SeriesId, SessionId,
};
use crate::error::{AppError, AppResult};
use crate::residents::types::ResidentRow;
use crate::schedule::queries as schedule;
use crate::schedule::service::Context;
use crate::schedule::types::{SeriesRow, SessionStatus};

#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    pub id: Uuid,
    pub series_id: SeriesId,
    /// `active` or `cancelled`.
    pub status: String,
    /// The course enrolment this belongs to, if it was made for a course.
    pub course_enrolment_id: Option<CourseEnrolmentId>,
    /// Bookings made (or, on withdrawal, cancelled) by this request, in
    /// date order.
    pub bookings: Vec<Booking>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourseEnrolment {
    pub id: CourseEnrolmentId,
    pub course_id: CourseId,
    /// `active` or `cancelled`.
    pub status: String,
    /// One enrolment per series of the course, with its bookings.
    pub enrolments: Vec<Enrolment>,
}

/// What an enrolment asks for, checked.
#[derive(Debug, Clone)]
pub struct Terms {
    pub resident: Uuid,
    pub channel: Channel,
    pub needs_loaner: bool,
    /// When a session has no free loaner device: book without, wait for
    /// one, or (none) refuse the enrolment with `no_loaner_available`.
    pub if_no_loaner: Option<NoLoaner>,
    pub override_eligibility_reason: Option<String>,
}

fn choice_text(c: Option<NoLoaner>) -> Option<String> {
    c.map(|c| match c {
        NoLoaner::BookWithout => "book_without".to_owned(),
        NoLoaner::Waitlist => "waitlist".to_owned(),
    })
}

fn choice_of(text: Option<&str>) -> Option<NoLoaner> {
    match text {
        Some("book_without") => Some(NoLoaner::BookWithout),
        Some("waitlist") => Some(NoLoaner::Waitlist),
        _ => None,
    }
}

/// How the resident is booked into one session for an enrolment.
struct Booker<'a> {
    organisation: OrganisationId,
    enrolment: EnrolmentId,
    resident: &'a ResidentRow,
    channel: Channel,
    needs_loaner: bool,
    if_no_loaner: Option<NoLoaner>,
    entered_by: AccountId,
    eligibility_override: Option<&'a str>,
    /// Judge eligibility (when enrolling); sessions stored later for an
    /// enrolment are not judged again.
    judge_eligibility: bool,
    turnaround_minutes: i64,
}

impl Booker<'_> {
    /// Books one session, or fails with why (the caller's transaction
    /// rolls back whatever was booked before).
    fn book(&self, conn: &mut DbConnection, session: SessionId) -> AppResult<BookingRow> {
        let session = service::session_of(conn, self.organisation, session)?;
        // An enrolment promises seats; a lottery's seats are the draw's to give.
        if session.awaits_draw() {
            return Err(service::lottery_pending(&session));
        }
        if queries::active_booking(conn, session.id, self.resident.id)?.is_some() {
            return Err(service::already_booked()
                .with_extension("session_id", serde_json::json!(session.id)));
        }
        if self.judge_eligibility {
            service::check_eligibility(conn, &session, self.resident, self.eligibility_override)?;
        }
        if !queries::take_seat(conn, session.id)? {
            return Err(AppError::conflict(
                "session_full",
                format!("the session {} is full: nobody was enrolled", session.id),
            )
            .with_extension("session_id", serde_json::json!(session.id)));
        }
        let (needs_loaner, claim) = service::claim_loaner(
            conn,
            &session,
            BookingStatus::Confirmed,
            self.needs_loaner,
            self.if_no_loaner,
            self.turnaround_minutes,
        )?;
        let row = service::insert_booking(
            conn,
            &session,
            self.resident,
            NewRow {
                reference: None,
                channel: self.channel,
                needs_loaner,
                notes: None,
                seat: Seat::confirmed(),
                window_override_reason: None,
                fee_exemption_reason: None,
                eligibility_override_reason: self.eligibility_override.map(str::to_owned),
                entered_by: self.entered_by,
            },
        )?;
        if let Some(status) = claim {
            pool::record(conn, &session, row.id, status, self.turnaround_minutes)?;
        }
        queries::set_enrolment(conn, row.id, self.enrolment.0)?;
        Ok(row)
    }
}

/// One letter for the whole enrolment (not one per session).
fn tell_enrolled(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    resident: &ResidentRow,
    booked: &[BookingRow],
) -> AppResult<()> {
    // The fee as it now stands (a reserved loaner is included).
    let mut rows = Vec::new();
    for b in booked {
        rows.push(queries::find_any(conn, b.id)?.unwrap_or_else(|| b.clone()));
    }
    rows.sort_by_key(|b| b.created_at);
    let lines: Vec<crate::messages::compose::EnrolledSession<'_>> = rows
        .iter()
        .map(|b| (b.id, b.session_id, b.reference.as_str(), b.fee_due_yen))
        .collect();
    crate::messages::compose::enrolment(conn, organisation, resident.id, &lines)
}

fn answers(conn: &mut DbConnection, rows: Vec<BookingRow>) -> AppResult<Vec<Booking>> {
    let mut out = Vec::new();
    for row in rows {
        let (row, resident) = queries::with_resident(conn, row.id)?;
        let loaner = pool::label(pool::status_of(conn, row.id)?.as_deref());
        out.push(Booking::new(
            row,
            queries::resident_ref(&resident),
            None,
            loaner,
        ));
    }
    Ok(out)
}

/// Creates an enrolment row and books every remaining stored session of
/// its series. Inside the caller's write transaction.
fn enrol_series(
    conn: &mut DbConnection,
    caller: &Caller,
    series: SeriesId,
    resident: &ResidentRow,
    terms: &Terms,
    course_enrolment: Option<CourseEnrolmentId>,
    turnaround_minutes: i64,
) -> AppResult<(EnrolmentRow, Vec<BookingRow>)> {
    let row = EnrolmentRow {
        id: EnrolmentId::generate(),
        organisation_id: caller.organisation_id,
        series_id: series,
        resident_id: resident.id,
        status: "active".into(),
        entered_by: caller.account_id,
        cancel_reason: None,
        created_at: Utc::now().naive_utc(),
        cancelled_at: None,
        channel: terms.channel,
        needs_loaner: terms.needs_loaner,
        if_no_loaner: choice_text(terms.if_no_loaner),
        course_enrolment_id: course_enrolment,
    };
    rows::insert(conn, &row)?;
    let booker = Booker {
        organisation: caller.organisation_id,
        enrolment: row.id,
        resident,
        channel: terms.channel,
        needs_loaner: terms.needs_loaner,
        if_no_loaner: terms.if_no_loaner,
        entered_by: caller.account_id,
        eligibility_override: terms.override_eligibility_reason.as_deref(),
        judge_eligibility: true,
        turnaround_minutes,
    };
    let mut booked = Vec::new();
    for session in rows::future_sessions(conn, series)? {
        booked.push(booker.book(conn, session)?);
    }
    Ok((row, booked))
}

/// Enrols a resident in a series: every remaining stored session now, and
/// every session stored later. Must run inside a write transaction: any
/// session that cannot seat them rolls back every seat.
pub fn enrol(
    conn: &mut DbConnection,
    caller: &Caller,
    series: SeriesId,
    terms: &Terms,
    turnaround_minutes: i64,
) -> AppResult<Enrolment> {
    schedule::find_series(conn, caller.organisation_id, series)?
        .ok_or_else(|| AppError::not_found("series"))?;
    let resident = service::resident_for(conn, caller.organisation_id, terms.resident)?;
    let (row, booked) = enrol_series(
        conn,
        caller,
        series,
        &resident,
        terms,
        None,
        turnaround_minutes,
    )?;
    if booked.is_empty() {
        return Err(AppError::conflict(
            "nothing_to_enrol",
            "the series has no remaining sessions",
        ));
    }
    tell_enrolled(conn, caller.organisation_id, &resident, &booked)?;
    crate::audit::record(
        conn,
        caller,
        "enrolment.create",
        "enrolment",
        row.id,
        format!(
            "enrolled {} in {} sessions",
            resident.display_name(),
            booked.len()
        ),
    )?;
    Ok(Enrolment {
        id: row.id.0,
        series_id: series,
        status: row.status,
        course_enrolment_id: None,
        bookings: answers(conn, booked)?,
    })
}

/// Enrols a resident in every active series of a course (a course in
/// parts), all sessions of all parts or none; parts stored later are
/// covered too.
pub fn enrol_course(
    conn: &mut DbConnection,
    caller: &Caller,
    course: CourseId,
    terms: &Terms,
    turnaround_minutes: i64,
) -> AppResult<CourseEnrolment> {
    crate::courses::queries::find(conn, caller.organisation_id, course)?
        .ok_or_else(|| AppError::not_found("course"))?;
    let resident = service::resident_for(conn, caller.organisation_id, terms.resident)?;
    let group = CourseEnrolmentRow {
        id: CourseEnrolmentId::generate(),
        organisation_id: caller.organisation_id,
        course_id: course,
        resident_id: resident.id,
        status: "active".into(),
        channel: terms.channel,
        needs_loaner: terms.needs_loaner,
        if_no_loaner: choice_text(terms.if_no_loaner),
        entered_by: caller.account_id,
        cancel_reason: None,
        created_at: Utc::now().naive_utc(),
        cancelled_at: None,
    };
    rows::insert_course(conn, &group)?;
    let mut parts = Vec::new();
    let mut total = 0;
    let mut all_booked = Vec::new();
    for series in schedule::series_of_course(conn, course)? {
        let (row, booked) = enrol_series(
            conn,
            caller,
            series,
            &resident,
            terms,
            Some(group.id),
            turnaround_minutes,
        )?;
        total += booked.len();
        all_booked.extend(booked.iter().cloned());
        parts.push(Enrolment {
            id: row.id.0,
            series_id: series,
            status: row.status,
            course_enrolment_id: Some(group.id),
            bookings: answers(conn, booked)?,
        });
    }
    if total == 0 {
        return Err(AppError::conflict(
            "nothing_to_enrol",
            "no series of the course has a remaining session",
        ));
    }
    tell_enrolled(conn, caller.organisation_id, &resident, &all_booked)?;
    crate::audit::record(
        conn,
        caller,
        "enrolment.create",
        "course_enrolment",
        group.id,
        format!(
            "enrolled {} in {} parts, {total} sessions",
            resident.display_name(),
            parts.len()
        ),
    )?;
    Ok(CourseEnrolment {
        id: group.id,
        course_id: course,
        status: group.status,
        enrolments: parts,
    })
}

/// Withdraws an active enrolment: cancels its future bookings.
fn withdraw(
    conn: &mut DbConnection,
    caller: &Caller,
    row: &EnrolmentRow,
    reason: &str,
    turnaround_minutes: i64,
) -> AppResult<Vec<Booking>> {
    let mut cancelled = Vec::new();
    for booking in queries::future_bookings_of_enrolment(conn, row.id.0)? {
        let (row, _) = service::cancel(
            conn,
            caller,
            booking,
            &format!("enrolment cancelled: {reason}"),
            turnaround_minutes,
            false,
        )?;
        cancelled.push(row);
    }
    rows::cancel(conn, row.id, reason)?;
    rows::close_conflicts(
        conn,
        row.id,
        None,
        "dismissed",
        Some(caller.account_id),
        Some("enrolment withdrawn"),
    )?;
    answers(conn, cancelled)
}

/// Cancels an enrolment and its future bookings. Must run inside a write
/// transaction.
pub fn cancel(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    reason: &str,
    turnaround_minutes: i64,
) -> AppResult<Enrolment> {
    let row = rows::find(conn, caller.organisation_id, EnrolmentId(id))?
        .ok_or_else(|| AppError::not_found("enrolment"))?;
    if row.status != "active" {
        return Err(AppError::conflict(
            "invalid_transition",
            "the enrolment is already cancelled",
        ));
    }
    let bookings = withdraw(conn, caller, &row, reason, turnaround_minutes)?;
    crate::audit::record(
        conn,
        caller,
        "enrolment.cancel",
        "enrolment",
        row.id,
        format!("withdrawn, {} bookings cancelled: {reason}", bookings.len()),
    )?;
    Ok(Enrolment {
        id,
        series_id: row.series_id,
        status: "cancelled".into(),
        course_enrolment_id: row.course_enrolment_id,
        bookings,
    })
}

/// Withdraws a course enrolment: every part and every future booking.
pub fn cancel_course(
    conn: &mut DbConnection,
    caller: &Caller,
    id: CourseEnrolmentId,
    reason: &str,
    turnaround_minutes: i64,
) -> AppResult<CourseEnrolment> {
    let group = rows::find_course(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("course enrolment"))?;
    if group.status != "active" {
        return Err(AppError::conflict(
            "invalid_transition",
            "the course enrolment is already cancelled",
        ));
    }
    let mut parts = Vec::new();
    let mut freed = 0;
    for row in rows::of_course_enrolment(conn, id)? {
        let bookings = if row.status == "active" {
            withdraw(conn, caller, &row, reason, turnaround_minutes)?
        } else {
            Vec::new()
        };
        freed += bookings.len();
        parts.push(Enrolment {
            id: row.id.0,
            series_id: row.series_id,
            status: "cancelled".into(),
            course_enrolment_id: Some(id),
            bookings,
        });
    }
    rows::cancel_course(conn, id, reason)?;
    crate::audit::record(
        conn,
        caller,
        "enrolment.cancel",
        "course_enrolment",
        id,
        format!("withdrawn from every part, {freed} bookings cancelled: {reason}"),
    )?;
    Ok(CourseEnrolment {
        id,
        course_id: group.course_id,
        status: "cancelled".into(),
        enrolments: parts,
    })
}

/// Whether a stored session can take an enrolled resident.
enum Fit {
    /// A seat is free.
    Seat,
    /// They already hold a booking there (booked by hand): nothing to do.
    Holds,
    /// Not a session to book (cancelled, over).
    Skip,
    /// Cannot seat them: code and detail for the conflict list.
    No(&'static str, String),
}

fn fit(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    session: SessionId,
    resident: &ResidentRow,
) -> AppResult<Fit> {
    let session = service::session_of(conn, organisation, session)?;
    if session.status != SessionStatus::Scheduled || session.starts_at <= Utc::now().naive_utc() {
        return Ok(Fit::Skip);
    }
    if queries::active_booking(conn, session.id, resident.id)?.is_some() {
        return Ok(Fit::Holds);
    }
    if session.seats_taken >= session.capacity {
        return Ok(Fit::No(
            "session_full",
            format!(
                "all {} seats are taken: {} could not be seated",
                session.capacity,
                resident.display_name()
            ),
        ));
    }
    Ok(Fit::Seat)
}

/// An open entry of the conflict list.
fn open_conflict_row(
    enrolment: &EnrolmentRow,
    session: SessionId,
    code: &str,
    detail: String,
) -> ConflictRow {
    ConflictRow {
        id: EnrolmentConflictId::generate(),
        organisation_id: enrolment.organisation_id,
        enrolment_id: enrolment.id,
        session_id: session,
        code: code.to_owned(),
        detail,
        status: "open".into(),
        created_at: Utc::now().naive_utc(),
        closed_at: None,
        closed_by: None,
        close_note: None,
    }
}

/// Books an enrolment into `sessions`, all or none: either every session
/// that can take them is booked, or none is and each one that cannot
/// becomes an open conflict. Returns (booked, conflicts).
fn keep_one(
    conn: &mut DbConnection,
    actor: Actor,
    enrolment: &EnrolmentRow,
    sessions: &[SessionId],
    turnaround_minutes: i64,
) -> AppResult<(usize, usize)> {
    let organisation = enrolment.organisation_id;
    let resident = crate::residents::queries::find(conn, organisation, enrolment.resident_id)?
        .ok_or_else(|| AppError::not_found("resident"))?;
    let mut to_book = Vec::new();
    let mut failures = Vec::new();
    for &session in sessions {
        match fit(conn, organisation, session, &resident)? {
            Fit::Seat => to_book.push(session),
            Fit::Holds | Fit::Skip => {}
            Fit::No(code, detail) => failures.push((session, code, detail)),
        }
    }
    if !failures.is_empty() {
        for (session, code, detail) in &failures {
            rows::insert_conflict(
                conn,
                &open_conflict_row(enrolment, *session, code, detail.clone()),
            )?;
        }
        crate::audit::record(
            conn,
            actor,
            "enrolment.conflict",
            "enrolment",
            enrolment.id,
            format!(
                "{} new session(s) could not seat {}: none of the {} booked; see the conflict list",
                failures.len(),
                resident.display_name(),
                to_book.len() + failures.len()
            ),
        )?;
        return Ok((0, failures.len()));
    }
    // Sessions stored later follow the enrolment's loaner choice; with no
    // choice the resident keeps the seat and waits for a device, and the
    // coordinators see it on the conflict list.
    let asked = choice_of(enrolment.if_no_loaner.as_deref());
    let booker = Booker {
        organisation,
        enrolment: enrolment.id,
        resident: &resident,
        channel: enrolment.channel,
        needs_loaner: enrolment.needs_loaner,
        if_no_loaner: Some(asked.unwrap_or(NoLoaner::Waitlist)),
        entered_by: enrolment.entered_by,
        // The enrolment admitted them; its later sessions are not re-judged.
        eligibility_override: None,
        judge_eligibility: false,
        turnaround_minutes,
    };
    let mut notes = 0;
    for &session in &to_book {
        let row = booker.book(conn, session)?;
        if enrolment.needs_loaner
            && asked.is_none()
            && pool::status_of(conn, row.id)?.as_deref() == Some("waitlisted")
        {
            notes += 1;
            rows::insert_conflict(
                conn,
                &open_conflict_row(
                    enrolment,
                    session,
                    "loaner_waitlisted",
                    format!(
                        "seated, but no loaner device is free: {} waits for one",
                        resident.display_name()
                    ),
                ),
            )?;
        }
    }
    if !to_book.is_empty() {
        crate::audit::record(
            conn,
            actor,
            "enrolment.extend",
            "enrolment",
            enrolment.id,
            format!(
                "booked {} into {} session(s) stored later",
                resident.display_name(),
                to_book.len()
            ),
        )?;
    }
    Ok((to_book.len(), notes))
}

/// The schedule's `SessionsAdded` hook: every active enrolment of the
/// series (and every active course enrolment of its course not yet covering
/// it) is booked into the sessions just stored.
pub fn keep_promises(
    conn: &mut DbConnection,
    ctx: &Context,
    series: &SeriesRow,
    added: &[SessionId],
) -> AppResult<()> {
    for group in rows::course_enrolments_missing(conn, series.course_id, series.id)? {
        rows::insert(
            conn,
            &EnrolmentRow {
                id: EnrolmentId::generate(),
                organisation_id: group.organisation_id,
                series_id: series.id,
                resident_id: group.resident_id,
                status: "active".into(),
                entered_by: group.entered_by,
                cancel_reason: None,
                created_at: Utc::now().naive_utc(),
                cancelled_at: None,
                channel: group.channel,
                needs_loaner: group.needs_loaner,
                if_no_loaner: group.if_no_loaner.clone(),
                course_enrolment_id: Some(group.id),
            },
        )?;
    }
    for enrolment in rows::active_of_series(conn, series.id)? {
        keep_one(
            conn,
            Actor::from(ctx),
            &enrolment,
            added,
            ctx.loaner_turnaround_minutes,
        )?;
    }
    Ok(())
}

/// One entry of the coordinators' conflict list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Conflict {
    pub id: EnrolmentConflictId,
    pub enrolment_id: EnrolmentId,
    pub series_id: SeriesId,
    pub session_id: SessionId,
    pub session_starts_at: chrono::DateTime<Utc>,
    pub resident: ResidentRef,
    /// `session_full` (nobody of the enrolment was booked into the new
    /// sessions) or `loaner_waitlisted` (seated, waiting for a device).
    pub code: String,
    pub detail: String,
    /// `open`, `resolved` or `dismissed`.
    pub status: String,
    pub created_at: chrono::DateTime<Utc>,
    pub closed_at: Option<chrono::DateTime<Utc>>,
    pub close_note: Option<String>,
}

/// The organisation's conflicts with `status`, soonest session first.
pub fn conflicts(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    status: &str,
) -> AppResult<Vec<Conflict>> {
    let found = rows::conflicts(conn, organisation, status, 500)?;
    let mut out = Vec::new();
    for (c, starts_at, enrolment) in found {
        let resident = crate::residents::queries::find(conn, organisation, enrolment.resident_id)?
            .ok_or_else(|| AppError::not_found("resident"))?;
        out.push(Conflict {
            id: c.id,
            enrolment_id: c.enrolment_id,
            series_id: enrolment.series_id,
            session_id: c.session_id,
            session_starts_at: starts_at.and_utc(),
            resident: queries::resident_ref(&resident),
            code: c.code,
            detail: c.detail,
            status: c.status,
            created_at: c.created_at.and_utc(),
            closed_at: c.closed_at.map(|t| t.and_utc()),
            close_note: c.close_note,
        });
    }
    Ok(out)
}

fn open_conflict(
    conn: &mut DbConnection,
    caller: &Caller,
    id: EnrolmentConflictId,
) -> AppResult<(ConflictRow, EnrolmentRow)> {
    let conflict = rows::find_conflict(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("conflict"))?;
    if conflict.status != "open" {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("the conflict is already {}", conflict.status),
        ));
    }
    let enrolment = rows::find(conn, caller.organisation_id, conflict.enrolment_id)?
        .ok_or_else(|| AppError::not_found("enrolment"))?;
    Ok((conflict, enrolment))
}

/// Tries again to book the conflict's enrolment into every future session
/// of its series it is missing (after the coordinator made room), all or
/// none: on success every open conflict of the enrolment is resolved; if a
/// session still cannot seat the resident, 409 and nothing changes.
pub fn retry_conflict(
    conn: &mut DbConnection,
    caller: &Caller,
    id: EnrolmentConflictId,
    turnaround_minutes: i64,
) -> AppResult<usize> {
    let (conflict, enrolment) = open_conflict(conn, caller, id)?;
    if enrolment.status != "active" {
        return Err(AppError::conflict(
            "invalid_state",
            "the enrolment was withdrawn: dismiss the conflict",
        ));
    }
    crate::db::locks::session(conn, conflict.session_id)?;
    let sessions = rows::future_sessions(conn, enrolment.series_id)?;
    let resident =
        crate::residents::queries::find(conn, caller.organisation_id, enrolment.resident_id)?
            .ok_or_else(|| AppError::not_found("resident"))?;
    for &session in &sessions {
        if let Fit::No(code, detail) = fit(conn, caller.organisation_id, session, &resident)? {
            return Err(AppError::conflict(code, format!("still: {detail}"))
                .with_extension("session_id", serde_json::json!(session)));
        }
    }
    let (booked, _) = keep_one(
        conn,
        Actor::from(caller),
        &enrolment,
        &sessions,
        turnaround_minutes,
    )?;
    rows::close_conflicts(
        conn,
        enrolment.id,
        None,
        "resolved",
        Some(caller.account_id),
        Some(&format!("retried: {booked} session(s) booked")),
    )?;
    crate::audit::record(
        conn,
        caller,
        "enrolment.conflict_resolve",
        "enrolment",
        enrolment.id,
        format!("retried: {booked} session(s) booked"),
    )?;
    Ok(booked)
}

/// Closes one conflict without booking, saying why (e.g. the resident
/// skips that date).
pub fn dismiss_conflict(
    conn: &mut DbConnection,
    caller: &Caller,
    id: EnrolmentConflictId,
    reason: &str,
) -> AppResult<()> {
    let (_, enrolment) = open_conflict(conn, caller, id)?;
    rows::close_conflicts(
        conn,
        enrolment.id,
        Some(id),
        "dismissed",
        Some(caller.account_id),
        Some(reason),
    )?;
    crate::audit::record(
        conn,
        caller,
        "enrolment.conflict_dismiss",
        "enrolment",
        enrolment.id,
        format!("conflict dismissed: {reason}"),
    )?;
    Ok(())
}
