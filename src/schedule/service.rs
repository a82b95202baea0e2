//! Schedule rules: checking a series or session request, expanding a series
//! into sessions and keeping them in step with later edits (never silently
//! moving or deleting a session that has bookings).

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::queries::{self, SessionChanges};
use super::recurrence::{self, Closure, Occurrence, Pattern, RuleError};
use super::types::{ClosureRow, KeptSession, SeriesInput, SeriesRow, SessionRow, SyncReport};
use crate::auth::Role;
use crate::courses::queries as courses;
use crate::courses::types::CourseRow;
use crate::db::{AccountId, CourseId, DbConnection, OrganisationId, SeriesId, SessionId, VenueId};
use crate::error::{AppError, AppResult};
use crate::staff::queries as staff;
use crate::validate::{Checker, optional_text, positive, yen};
use crate::venues::queries as venues;
use crate::venues::types::{MAX_CAPACITY, VenueRow};

pub const MAX_FEE_YEN: i64 = 1_000_000;
pub const DEFAULT_OPENS_DAYS_BEFORE: i32 = 30;

/// What every schedule write needs to know about its organisation.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub organisation: OrganisationId,
    /// `None` for the system (the extending job).
    pub actor: Option<AccountId>,
    pub tz: Tz,
    pub horizon_days: u32,
    pub max_sessions: usize,
    /// Minutes a loaner device needs between sessions (for bookings the
    /// hook below makes).
    pub loaner_turnaround_minutes: i64,
    /// Called in the same transaction after sessions were added to a
    /// series, so layers above (enrolments) can keep their promises.
    pub on_sessions_added: SessionsAdded,
    /// Called in the same transaction after a session moved (its start,
    /// end or venue), with where it was: layers above tell its residents.
    pub on_session_moved: SessionMoved,
}

/// What runs after a session moved: the session and its former (start, end).
pub type SessionMoved =
    fn(&mut DbConnection, &Context, SessionId, (NaiveDateTime, NaiveDateTime)) -> AppResult<()>;

/// A `SessionMoved` that does nothing.
pub fn nobody_to_tell(
    _: &mut DbConnection,
    _: &Context,
    _: SessionId,
    _: (NaiveDateTime, NaiveDateTime),
) -> AppResult<()> {
    Ok(())
}

/// What runs after `sync_series` added sessions: the series and the ids of
/// the new sessions, in date order.
pub type SessionsAdded = fn(&mut DbConnection, &Context, &SeriesRow, &[SessionId]) -> AppResult<()>;

/// A `SessionsAdded` that does nothing.
pub fn nothing_to_do(
    _: &mut DbConnection,
    _: &Context,
    _: &SeriesRow,
    _: &[SessionId],
) -> AppResult<()> {
    Ok(())
}

impl Context {
    /// The last local date sessions are stored for.
    pub fn horizon_end(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.tz).date_naive()
            + Duration::days(i64::from(self.horizon_days))
    }
}

/// An active course of the organisation named in a request body (422 if not).
pub fn course_for(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: uuid::Uuid,
) -> AppResult<CourseRow> {
    match courses::find(conn, organisation, CourseId(id))? {
        Some(c) if c.active => Ok(c),
        Some(_) => Err(AppError::invalid_field(
            "course_id",
            "this course is archived",
        )),
        None => Err(AppError::invalid_field("course_id", "no such course")),
    }
}

/// An active venue of the organisation named in a request body (422 if not).
pub fn venue_for(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: uuid::Uuid,
) -> AppResult<VenueRow> {
    match venues::find(conn, organisation, VenueId(id))? {
        Some(v) if v.active => Ok(v),
        Some(_) => Err(AppError::invalid_field(
            "venue_id",
            "this venue is archived",
        )),
        None => Err(AppError::invalid_field("venue_id", "no such venue")),
    }
}

/// Active staff of the organisation who may teach (admins, coordinators,
/// instructors); 422 naming the others.
pub fn instructors_for(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    ids: &[uuid::Uuid],
) -> AppResult<Vec<AccountId>> {
    let mut accounts = Vec::new();
    for id in ids {
        let ok = staff::find(conn, organisation, AccountId(*id))?
            .filter(|a| a.active)
            .is_some_and(|a| a.role != Role::Volunteer.as_str());
        if !ok {
            return Err(AppError::invalid_field(
                "instructor_ids",
                format!("{id} is not an active instructor of this organisation"),
            ));
        }
        accounts.push(AccountId(*id));
    }
    accounts.sort();
    accounts.dedup();
    Ok(accounts)
}

fn rule_error(e: RuleError) -> AppError {
    match e {
        RuleError::InvalidRule(m) => AppError::invalid_field("rrule", m),
        RuleError::EndBeforeStart => {
            AppError::invalid_field("end_time", "must be after start_time")
        }
        RuleError::TooManySessions(max) => AppError::client(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_sessions",
            format!(
                "the series would produce more than {max} sessions within the scheduling horizon"
            ),
        ),
    }
}

/// `start + minutes`, refused when it crosses midnight.
pub fn end_after(start: NaiveTime, minutes: i32) -> Result<NaiveTime, String> {
    let (end, wrapped) = start.overflowing_add_signed(Duration::minutes(i64::from(minutes)));
    if wrapped != 0 || end <= start {
        Err("the session would end after midnight: give end_time".into())
    } else {
        Ok(end)
    }
}

/// Applies a request to a series (new when `current` is `None`), checking
/// every field. Returns the row, exception dates and instructors to store.
pub fn apply_series_input(
    conn: &mut DbConnection,
    ctx: &Context,
    current: Option<(SeriesRow, Vec<NaiveDate>, Vec<AccountId>)>,
    input: SeriesInput,
) -> AppResult<(SeriesRow, Vec<NaiveDate>, Vec<AccountId>)> {
    let creating = current.is_none();
    let input_rules = input.rules();
    let mut v = Checker::new();
    if creating {
        for (field, present) in [
            ("course_id", input.course_id.is_some()),
            ("venue_id", input.venue_id.is_some()),
            ("rrule", input.rrule.is_some()),
            ("starts_on", input.starts_on.is_some()),
            ("start_time", input.start_time.is_some()),
        ] {
            if !present {
                v.fail(field, "is required");
            }
        }
        v.finish()?;
        v = Checker::new();
    }
    let course = match input.course_id {
        Some(id) => Some(course_for(conn, ctx.organisation, id)?),
        None => None,
    };
    let venue = match input.venue_id {
        Some(id) => Some(venue_for(conn, ctx.organisation, id)?),
        None => None,
    };
    let instructors = match &input.instructor_ids {
        Some(ids) => Some(instructors_for(conn, ctx.organisation, ids)?),
        None => None,
    };
    let now = Utc::now().naive_utc();
    let (mut row, mut exceptions, mut teachers) = match current {
        Some(c) => c,
        None => {
            let (Some(course), Some(venue)) = (&course, &venue) else {
                return Err(AppError::invalid_field("course_id", "is required"));
            };
            let start_time = input.start_time.unwrap_or(NaiveTime::MIN);
            let end_time = match input.end_time {
                Some(t) => t,
                None => v.check(
                    "end_time",
                    end_after(start_time, course.default_length_minutes),
                ),
            };
            let starts_on = input.starts_on.unwrap_or_default();
            (
                SeriesRow {
                    id: SeriesId::generate(),
                    organisation_id: ctx.organisation,
                    course_id: course.id,
                    venue_id: venue.id,
                    room: venue.room.clone(),
                    rrule: String::new(),
                    starts_on,
                    until_on: None,
                    occurrence_count: None,
                    start_time,
                    end_time,
                    capacity: venue.default_capacity,
                    fee_yen: course.default_fee_yen,
                    loaner_fee_yen: 0,
                    booking_opens_days_before: DEFAULT_OPENS_DAYS_BEFORE,
                    booking_closes_minutes_before: 0,
                    waitlist_enabled: true,
                    skip_public_holidays: true,
                    skip_closures: true,
                    materialized_until: starts_on - Duration::days(1),
                    active: true,
                    created_at: now,
                    updated_at: now,
                    allocation: super::allocation::Allocation::FirstCome,
                    applications_close_at: None,
                    draw_at: None,
                    offer_hours: None,
                    first_timers_first: false,
                },
                Vec::new(),
                Vec::new(),
            )
        }
    };
    if let Some(course) = &course {
        row.course_id = course.id;
    }
    if let Some(venue) = &venue {
        row.venue_id = venue.id;
    }
    if let Some(room) = input.room {
        row.room = v.check("room", optional_text(Some(&room), 100));
    }
    if let Some(rule) = input.rrule {
        row.rrule = rule.trim().to_owned();
        if let Err(e) = recurrence::parse_rule(&row.rrule) {
            v.fail("rrule", e.to_string());
        }
    }
    if let Some(starts_on) = input.starts_on {
        row.starts_on = starts_on;
    }
    if let Some(until) = input.until {
        row.until_on = until;
    }
    if let Some(count) = input.count {
        row.occurrence_count = count.map(|c| v.check("count", positive(c, 1000)));
    }
    if let Some(t) = input.start_time {
        row.start_time = t;
    }
    if let Some(t) = input.end_time {
        row.end_time = t;
    }
    if let Some(c) = input.capacity {
        row.capacity = v.check("capacity", positive(c, MAX_CAPACITY));
    }
    if let Some(f) = input.fee_yen {
        row.fee_yen = v.check("fee_yen", yen(f, MAX_FEE_YEN));
    }
    if let Some(f) = input.loaner_fee_yen {
        row.loaner_fee_yen = v.check("loaner_fee_yen", yen(f, MAX_FEE_YEN));
    }
    if let Some(d) = input.booking_opens_days_before {
        row.booking_opens_days_before = v.check("booking_opens_days_before", bounded(d, 0, 366));
    }
    if let Some(m) = input.booking_closes_minutes_before {
        row.booking_closes_minutes_before =
            v.check("booking_closes_minutes_before", bounded(m, 0, 7 * 24 * 60));
    }
    if let Some(w) = input.waitlist_enabled {
        row.waitlist_enabled = w;
    }
    if let Some(s) = input.skip_public_holidays {
        row.skip_public_holidays = s;
    }
    if let Some(s) = input.skip_closures {
        row.skip_closures = s;
    }
    if let Some(mut dates) = input.exception_dates {
        dates.sort();
        dates.dedup();
        if dates.len() > 366 {
            v.fail("exception_dates", "at most 366 dates");
        }
        exceptions = dates;
    }
    if let Some(t) = instructors {
        teachers = t;
    }
    let rules = row.rules().apply(&input_rules, &mut v);
    row.set_rules(rules);
    if row.end_time <= row.start_time {
        v.fail("end_time", "must be after start_time");
    }
    if row.until_on.is_some_and(|u| u < row.starts_on) {
        v.fail("until", "must not be before starts_on");
    }
    if let Err(m) = crate::validate::within_horizon(row.starts_on) {
        v.fail("starts_on", m);
    }
    if let Some(Err(m)) = row.until_on.map(crate::validate::within_horizon) {
        v.fail("until", m);
    }
    if !row.rrule.is_empty()
        && recurrence::parse_rule(&row.rrule).is_ok()
        && !recurrence::ever_occurs(&row.rrule, row.starts_on, row.start_time, row.until_on)
    {
        v.fail(
            "rrule",
            "the rule produces no date between starts_on and until (e.g. 30 February)",
        );
    }
    v.finish()?;
    row.updated_at = now;
    Ok((row, exceptions, teachers))
}

fn bounded(value: i64, min: i64, max: i64) -> Result<i32, String> {
    if value < min || value > max {
        return Err(format!("must be between {min} and {max}"));
    }
    i32::try_from(value).map_err(|_| format!("must be between {min} and {max}"))
}

pub fn closures_of(rows: &[ClosureRow]) -> Vec<Closure> {
    rows.iter()
        .map(|c| Closure {
            starts: c.starts_local,
            ends: c.ends_local,
            reason: c.reason.clone(),
        })
        .collect()
}

/// The recurrence pattern of a series row.
fn pattern_of(row: &SeriesRow, exception_dates: Vec<NaiveDate>) -> Pattern {
    Pattern {
        rrule: row.rrule.clone(),
        starts_on: row.starts_on,
        until: row.until_on,
        count: row.occurrence_count.and_then(|c| u32::try_from(c).ok()),
        start_time: row.start_time,
        end_time: row.end_time,
        exception_dates,
        skip_public_holidays: row.skip_public_holidays,
        skip_closures: row.skip_closures,
    }
}

/// The sessions a series should have, up to `through`.
pub fn occurrences(
    conn: &mut DbConnection,
    ctx: &Context,
    row: &SeriesRow,
    exceptions: &[NaiveDate],
    through: NaiveDate,
) -> AppResult<Vec<Occurrence>> {
    let pattern = pattern_of(row, exceptions.to_vec());
    let closures = closures_of(&queries::closures_at(conn, ctx.organisation, row.venue_id)?);
    recurrence::expand(&pattern, &ctx.tz, &closures, through, ctx.max_sessions).map_err(rule_error)
}

/// A date a rule produced that the series skips, and why.
pub type Skipped = (NaiveDate, String);

/// What a series request would produce, without saving anything: the
/// dates (up to its end, or a year ahead) and the dates skipped with why.
pub fn preview_series(
    conn: &mut DbConnection,
    ctx: &Context,
    existing: Option<SeriesId>,
    input: SeriesInput,
) -> AppResult<(Vec<Occurrence>, Vec<Skipped>)> {
    let current = stored(conn, ctx, existing)?;
    let (row, exceptions, _) = apply_series_input(conn, ctx, current, input)?;
    let pattern = pattern_of(&row, exceptions);
    let closures = closures_of(&queries::closures_at(conn, ctx.organisation, row.venue_id)?);
    let through = row.until_on.unwrap_or(row.starts_on + Duration::days(366));
    let mut skipped = Vec::new();
    let dates = recurrence::expand_noting(
        &pattern,
        &ctx.tz,
        &closures,
        through,
        ctx.max_sessions,
        &mut skipped,
    )
    .map_err(rule_error)?;
    Ok((dates, skipped))
}

fn booking_window(row: &SeriesRow, starts_at: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    (
        starts_at - Duration::days(i64::from(row.booking_opens_days_before)),
        starts_at - Duration::minutes(i64::from(row.booking_closes_minutes_before)),
    )
}

/// A series row with its exception dates and instructors.
type StoredSeries = (SeriesRow, Vec<NaiveDate>, Vec<AccountId>);

/// A stored series with its exception dates and instructors (404 when it
/// is not the organisation's); `None` for a new one.
fn stored(
    conn: &mut DbConnection,
    ctx: &Context,
    existing: Option<SeriesId>,
) -> AppResult<Option<StoredSeries>> {
    let Some(id) = existing else {
        return Ok(None);
    };
    let row = queries::find_series(conn, ctx.organisation, id)?
        .ok_or_else(|| AppError::not_found("series"))?;
    Ok(Some((
        row,
        queries::exception_dates(conn, id)?,
        queries::series_instructor_ids(conn, id)?,
    )))
}

/// Creates a series (`existing` is `None`) or edits one, stores its
/// exception dates and instructors, synchronises its sessions to the horizon
/// and records it. Must run inside a write transaction.
pub fn save_series(
    conn: &mut DbConnection,
    ctx: &Context,
    existing: Option<SeriesId>,
    input: SeriesInput,
) -> AppResult<(SeriesRow, SyncReport)> {
    let current = stored(conn, ctx, existing)?;
    let (mut row, exceptions, instructors) = apply_series_input(conn, ctx, current, input)?;
    if existing.is_none() {
        queries::insert_series(conn, &row)?;
    }
    queries::set_exception_dates(conn, row.id, &exceptions)?;
    queries::set_series_instructors(conn, row.id, &instructors)?;
    let report = sync_series(
        conn,
        ctx,
        &mut row,
        &exceptions,
        &instructors,
        ctx.horizon_end(),
    )?;
    let (action, summary) = match existing {
        None => (
            "series.create",
            format!(
                "created series {} ({} sessions)",
                row.rrule,
                report.added.len()
            ),
        ),
        Some(_) => (
            "series.update",
            format!(
                "edited series: {} added, {} updated, {} removed, {} kept",
                report.added.len(),
                report.updated.len(),
                report.removed.len(),
                report.kept.len()
            ),
        ),
    };
    crate::audit::record(conn, ctx, action, "series", row.id, summary)?;
    Ok((row, report))
}

/// Brings the future sessions of a series in line with it, up to `through`.
/// Sessions with bookings are never moved or deleted here: they are reported
/// as kept. Individually moved or resized (detached) and cancelled sessions
/// are left alone. Call inside a write transaction.
pub fn sync_series(
    conn: &mut DbConnection,
    ctx: &Context,
    row: &mut SeriesRow,
    exceptions: &[NaiveDate],
    instructors: &[AccountId],
    through: NaiveDate,
) -> AppResult<SyncReport> {
    // Serialise syncs of one series (an edit and the extending job).
    crate::db::locks::series(conn, row.id)?;
    // Never less than what is stored: a horizon shortened since must not
    // make stored sessions look as if they had left the series.
    let through = through.max(row.materialized_until);
    let wanted = occurrences(conn, ctx, row, exceptions, through)?;
    let now = Utc::now();
    let wanted: HashMap<NaiveDate, &Occurrence> = wanted
        .iter()
        .filter(|o| o.starts_at > now)
        .map(|o| (o.date, o))
        .collect();
    let existing = queries::future_sessions_of_series(conn, row.id, now.naive_utc())?;
    let known: HashSet<NaiveDate> = queries::occurrence_dates_of_series(conn, row.id)?
        .into_iter()
        .collect();
    let mut report = SyncReport::default();

    for session in existing
        .iter()
        .filter(|s| !s.detached && s.status == crate::schedule::types::SessionStatus::Scheduled)
    {
        let Some(date) = session.occurrence_date else {
            continue;
        };
        match wanted.get(&date) {
            None if session.has_bookings() => report.kept.push(KeptSession {
                session_id: session.id,
                reason: format!(
                    "no longer part of the series but has {} booking(s): cancel it explicitly",
                    session.seats_taken + session.waitlist_count
                ),
            }),
            None => {
                queries::delete_session(conn, session.id)?;
                report.removed.push(session.id);
            }
            Some(occurrence) => {
                if let Some(outcome) = follow_series(conn, row, session, occurrence, instructors)? {
                    match outcome {
                        Ok(()) => report.updated.push(session.id),
                        Err(reason) => report.kept.push(KeptSession {
                            session_id: session.id,
                            reason,
                        }),
                    }
                }
            }
        }
    }
    let mut dates: Vec<&NaiveDate> = wanted.keys().filter(|d| !known.contains(d)).collect();
    dates.sort();
    for date in dates {
        let occurrence = wanted[date];
        let id = insert_occurrence(conn, row, occurrence)?;
        queries::set_session_instructors(conn, id, instructors)?;
        report.added.push(id);
    }
    row.materialized_until = through.max(row.materialized_until);
    queries::save_series(conn, row)?;
    if !report.added.is_empty() {
        (ctx.on_sessions_added)(conn, ctx, row, &report.added)?;
    }
    Ok(report)
}

/// Updates one session to match its series. `None`: nothing to change;
/// `Some(Err(reason))`: it has bookings that the change would disturb.
fn follow_series(
    conn: &mut DbConnection,
    row: &SeriesRow,
    session: &SessionRow,
    occurrence: &Occurrence,
    instructors: &[AccountId],
) -> AppResult<Option<Result<(), String>>> {
    let starts_at = occurrence.starts_at.naive_utc();
    let ends_at = occurrence.ends_at.naive_utc();
    let (opens, closes) = booking_window(row, starts_at);
    let moves = session.starts_at != starts_at
        || session.ends_at != ends_at
        || session.venue_id != row.venue_id;
    if moves && session.has_bookings() {
        return Ok(Some(Err(format!(
            "has {} booking(s): not moved with the series; move it explicitly",
            session.seats_taken + session.waitlist_count
        ))));
    }
    if row.capacity < session.seats_taken {
        return Ok(Some(Err(format!(
            "{} seats are booked: capacity not lowered to {}",
            session.seats_taken, row.capacity
        ))));
    }
    // The allocation follows the series until the session's draw; a session
    // holding applications keeps its lottery (its applicants were promised a
    // draw) but follows new times for it.
    let wanted_rules = row.rules().for_session(starts_at, Utc::now().naive_utc());
    let rules = if session.drawn_at.is_some() {
        super::allocation::Rules {
            offer_hours: row.offer_hours,
            ..session.rules()
        }
    } else if session.applications_count > 0 && !wanted_rules.is_lottery() {
        return Ok(Some(Err(format!(
            "has {} application(s) for its draw: not changed to first come; cancel them first",
            session.applications_count
        ))));
    } else {
        wanted_rules
    };
    let current_instructors = queries::session_instructor_ids(conn, session.id)?;
    let same = !moves
        && session.rules() == rules
        && session.course_id == row.course_id
        && session.room == row.room
        && session.capacity == row.capacity
        && session.fee_yen == row.fee_yen
        && session.loaner_fee_yen == row.loaner_fee_yen
        && session.booking_opens_at == Some(opens)
        && session.booking_closes_at == Some(closes)
        && session.waitlist_enabled == row.waitlist_enabled
        && current_instructors == instructors;
    if same {
        return Ok(None);
    }
    queries::update_session(
        conn,
        session.id,
        SessionChanges {
            course_id: Some(row.course_id),
            venue_id: Some(row.venue_id),
            room: Some(row.room.clone()),
            starts_at: Some(starts_at),
            ends_at: Some(ends_at),
            capacity: Some(row.capacity),
            fee_yen: Some(row.fee_yen),
            loaner_fee_yen: Some(row.loaner_fee_yen),
            booking_opens_at: Some(Some(opens)),
            booking_closes_at: Some(Some(closes)),
            waitlist_enabled: Some(row.waitlist_enabled),
            allocation: Some(rules.allocation),
            applications_close_at: Some(rules.applications_close_at),
            draw_at: Some(rules.draw_at),
            offer_hours: Some(rules.offer_hours),
            first_timers_first: Some(rules.first_timers_first),
            ..Default::default()
        },
    )?;
    if current_instructors != instructors {
        queries::set_session_instructors(conn, session.id, instructors)?;
    }
    Ok(Some(Ok(())))
}

fn insert_occurrence(
    conn: &mut DbConnection,
    row: &SeriesRow,
    occurrence: &Occurrence,
) -> AppResult<SessionId> {
    let now = Utc::now().naive_utc();
    let starts_at = occurrence.starts_at.naive_utc();
    let (opens, closes) = booking_window(row, starts_at);
    let mut session = SessionRow {
        id: SessionId::generate(),
        organisation_id: row.organisation_id,
        series_id: Some(row.id),
        occurrence_date: Some(occurrence.date),
        course_id: row.course_id,
        venue_id: row.venue_id,
        room: row.room.clone(),
        starts_at,
        ends_at: occurrence.ends_at.naive_utc(),
        capacity: row.capacity,
        seats_taken: 0,
        waitlist_count: 0,
        status: crate::schedule::types::SessionStatus::Scheduled,
        cancel_reason: None,
        fee_yen: row.fee_yen,
        loaner_fee_yen: row.loaner_fee_yen,
        booking_opens_at: Some(opens),
        booking_closes_at: Some(closes),
        waitlist_enabled: row.waitlist_enabled,
        detached: false,
        created_at: now,
        updated_at: now,
        waitlist_seq: 0,
        allocation: super::allocation::Allocation::FirstCome,
        applications_close_at: None,
        draw_at: None,
        offer_hours: None,
        first_timers_first: false,
        drawn_at: None,
        applications_count: 0,
    };
    session.set_rules(row.rules().for_session(starts_at, now));
    queries::insert_session(conn, &session)?;
    Ok(session.id)
}

/// Local date and times → UTC instants, refusing an end before the start.
pub fn local_span(
    tz: &Tz,
    date: NaiveDate,
    start: NaiveTime,
    end: NaiveTime,
) -> AppResult<(NaiveDateTime, NaiveDateTime)> {
    if end <= start {
        return Err(AppError::invalid_field(
            "end_time",
            "must be after start_time",
        ));
    }
    Ok((
        crate::calendar::to_utc(tz, date.and_time(start)).naive_utc(),
        crate::calendar::to_utc(tz, date.and_time(end)).naive_utc(),
    ))
}

impl From<&Context> for crate::audit::Actor {
    fn from(ctx: &Context) -> crate::audit::Actor {
        crate::audit::Actor {
            organisation: ctx.organisation,
            account: ctx.actor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_end_never_crosses_midnight() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(end_after(t(14, 0), 120).unwrap(), t(16, 0));
        assert!(end_after(t(23, 0), 120).is_err());
    }
}
