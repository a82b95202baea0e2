//! Rules of a single session shared by the schedule's handlers and by the
//! features that act on sessions (bookings cancels a session with its
//! bookings): the session as answered, "still scheduled", cancelling.

use super::queries::{self, SessionChanges, SessionListRow};
use chrono::{Duration, Utc};

use super::service::{self, Context, DEFAULT_OPENS_DAYS_BEFORE, MAX_FEE_YEN};
use super::types::{Allocation, MoveSession, NewSession, Rules, RulesInput, Session, SessionRow};
use crate::db::{DbConnection, SessionId};
use crate::error::{AppError, AppResult};
use crate::validate::{Checker, optional_text, positive, yen};
use crate::venues::types::MAX_CAPACITY;

/// Turns rows into answers with their instructors: one more query per page.
pub fn answers(
    conn: &mut DbConnection,
    ctx: &Context,
    rows: Vec<SessionListRow>,
) -> AppResult<Vec<Session>> {
    let ids: Vec<SessionId> = rows.iter().map(|r| r.0.id).collect();
    let mut instructors = queries::instructors_of(conn, &ids)?;
    // The venue's hours on each session's day: two more queries per page.
    let venues: Vec<crate::db::VenueId> = rows.iter().map(|r| r.0.venue_id).collect();
    let own = crate::calendar::hours::venue_weeks(conn, &venues)?;
    let organisation = crate::calendar::hours::organisation_week(conn, ctx.organisation)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (course, venue) = queries::refs(&row);
            let teachers = instructors
                .remove(&row.0.id.to_string())
                .unwrap_or_default();
            let week = own.get(&row.0.venue_id).unwrap_or(&organisation);
            let day = row
                .0
                .starts_at
                .and_utc()
                .with_timezone(&ctx.tz)
                .date_naive();
            let hours = crate::calendar::hours::on_weekday(
                week,
                chrono::Datelike::weekday(&day).num_days_from_monday() as usize,
            );
            Session::new(row.0, course, venue, teachers, &ctx.tz, hours)
        })
        .collect())
}

pub fn one(conn: &mut DbConnection, ctx: &Context, id: SessionId) -> AppResult<Session> {
    let row = queries::session_with_names(conn, ctx.organisation, id)?
        .ok_or_else(|| AppError::not_found("session"))?;
    answers(conn, ctx, vec![row])?
        .pop()
        .ok_or_else(|| AppError::not_found("session"))
}

/// The session, if it is still scheduled (409 `invalid_state` otherwise).
pub fn scheduled(conn: &mut DbConnection, ctx: &Context, id: SessionId) -> AppResult<SessionRow> {
    let row = queries::find_session(conn, ctx.organisation, id)?
        .ok_or_else(|| AppError::not_found("session"))?;
    if row.status != crate::schedule::types::SessionStatus::Scheduled {
        return Err(AppError::conflict(
            "invalid_state",
            format!("the session is {}", row.status),
        ));
    }
    Ok(row)
}

/// Marks a scheduled session cancelled, with its reason, and records it.
pub fn mark_cancelled(
    conn: &mut DbConnection,
    ctx: &Context,
    id: SessionId,
    reason: &str,
    bookings_cancelled: usize,
) -> AppResult<()> {
    queries::update_session(
        conn,
        id,
        SessionChanges {
            status: Some(crate::schedule::types::SessionStatus::Cancelled),
            cancel_reason: Some(Some(reason.to_owned())),
            ..Default::default()
        },
    )?;
    crate::audit::record(
        conn,
        ctx,
        "session.cancel",
        "session",
        id,
        format!("cancelled: {reason}; {bookings_cancelled} booking(s) cancelled"),
    )?;
    Ok(())
}

/// Creates a one-off session (no series) from a request.
pub fn create_one_off(
    conn: &mut DbConnection,
    ctx: &Context,
    req: &NewSession,
) -> AppResult<Session> {
    let course = service::course_for(conn, ctx.organisation, req.course_id)?;
    let venue = service::venue_for(conn, ctx.organisation, req.venue_id)?;
    let instructors = service::instructors_for(
        conn,
        ctx.organisation,
        req.instructor_ids.as_deref().unwrap_or(&[]),
    )?;
    let mut v = Checker::new();
    let end_time = match req.end_time {
        Some(t) => t,
        None => v.check(
            "end_time",
            service::end_after(req.start_time, course.default_length_minutes),
        ),
    };
    let capacity = v.check(
        "capacity",
        positive(
            req.capacity.unwrap_or(i64::from(venue.default_capacity)),
            MAX_CAPACITY,
        ),
    );
    let fee_yen = v.check(
        "fee_yen",
        yen(
            req.fee_yen.unwrap_or(i64::from(course.default_fee_yen)),
            MAX_FEE_YEN,
        ),
    );
    let loaner_fee_yen = v.check(
        "loaner_fee_yen",
        yen(req.loaner_fee_yen.unwrap_or(0), MAX_FEE_YEN),
    );
    let room = match req.room.as_deref() {
        Some(r) => v.check("room", optional_text(Some(r), 100)),
        None => venue.room.clone(),
    };
    let opens = req
        .booking_opens_days_before
        .unwrap_or(i64::from(DEFAULT_OPENS_DAYS_BEFORE));
    let closes = req.booking_closes_minutes_before.unwrap_or(0);
    if !(0..=366).contains(&opens) {
        v.fail("booking_opens_days_before", "must be between 0 and 366");
    }
    if !(0..=7 * 24 * 60).contains(&closes) {
        v.fail(
            "booking_closes_minutes_before",
            "must be between 0 and 10080",
        );
    }
    if let Err(m) = crate::validate::within_horizon(req.date) {
        v.fail("date", m);
    }
    let rules = Rules::default().apply(&req.rules(), &mut v);
    v.finish()?;
    let (starts_at, ends_at) = service::local_span(&ctx.tz, req.date, req.start_time, end_time)?;
    let now = Utc::now().naive_utc();
    if starts_at <= now {
        return Err(AppError::invalid_field(
            "date",
            "the session would start in the past",
        ));
    }
    draw_before_start(&rules, starts_at)?;
    let row = SessionRow {
        id: SessionId::generate(),
        organisation_id: ctx.organisation,
        series_id: None,
        occurrence_date: None,
        course_id: course.id,
        venue_id: venue.id,
        room,
        starts_at,
        ends_at,
        capacity,
        seats_taken: 0,
        waitlist_count: 0,
        status: crate::schedule::types::SessionStatus::Scheduled,
        cancel_reason: None,
        fee_yen,
        loaner_fee_yen,
        booking_opens_at: Some(starts_at - Duration::days(opens)),
        booking_closes_at: Some(starts_at - Duration::minutes(closes)),
        waitlist_enabled: req.waitlist_enabled.unwrap_or(true),
        detached: true,
        created_at: now,
        updated_at: now,
        waitlist_seq: 0,
        allocation: rules.allocation,
        applications_close_at: rules.applications_close_at,
        draw_at: rules.draw_at,
        offer_hours: rules.offer_hours,
        first_timers_first: rules.first_timers_first,
        drawn_at: None,
        applications_count: 0,
    };
    queries::insert_session(conn, &row)?;
    queries::set_session_instructors(conn, row.id, &instructors)?;
    crate::audit::record(
        conn,
        ctx,
        "session.create",
        "session",
        row.id,
        format!("one-off {} on {}", course.title, req.date),
    )?;
    one(conn, ctx, row.id)
}

/// Moves a scheduled session to another date, time or venue; it is then
/// detached from its series (later series edits leave it alone).
pub fn move_session(
    conn: &mut DbConnection,
    ctx: &Context,
    id: SessionId,
    req: &MoveSession,
) -> AppResult<Session> {
    let row = scheduled(conn, ctx, id)?;
    let local_start = row.starts_at.and_utc().with_timezone(&ctx.tz);
    let local_end = row.ends_at.and_utc().with_timezone(&ctx.tz);
    let date = req.date.unwrap_or(local_start.date_naive());
    crate::validate::within_horizon(date).map_err(|m| AppError::invalid_field("date", m))?;
    let start = req.start_time.unwrap_or(local_start.time());
    let end = req.end_time.unwrap_or(local_end.time());
    let (starts_at, ends_at) = service::local_span(&ctx.tz, date, start, end)?;
    if starts_at <= Utc::now().naive_utc() {
        return Err(AppError::invalid_field(
            "date",
            "the session would start in the past",
        ));
    }
    let venue = match req.venue_id {
        Some(v) => Some(service::venue_for(conn, ctx.organisation, v)?),
        None => None,
    };
    let room = match (&req.room, &venue) {
        (Some(r), _) => {
            Some(optional_text(Some(r), 100).map_err(|m| AppError::invalid_field("room", m))?)
        }
        (None, Some(v)) => Some(v.room.clone()),
        (None, None) => None,
    };
    let shift = starts_at - row.starts_at;
    queries::update_session(
        conn,
        id,
        SessionChanges {
            venue_id: venue.as_ref().map(|v| v.id),
            room,
            starts_at: Some(starts_at),
            ends_at: Some(ends_at),
            booking_opens_at: Some(row.booking_opens_at.map(|t| t + shift)),
            booking_closes_at: Some(row.booking_closes_at.map(|t| t + shift)),
            detached: Some(true),
            ..Default::default()
        },
    )?;
    crate::audit::record(
        conn,
        ctx,
        "session.move",
        "session",
        id,
        format!("moved to {date} {start}–{end}"),
    )?;
    if starts_at != row.starts_at
        || ends_at != row.ends_at
        || venue.is_some_and(|v| v.id != row.venue_id)
    {
        (ctx.on_session_moved)(conn, ctx, id, (row.starts_at, row.ends_at))?;
    }
    one(conn, ctx, id)
}

/// A lottery must be drawn before its session starts.
fn draw_before_start(rules: &Rules, starts_at: chrono::NaiveDateTime) -> AppResult<()> {
    if rules.draw_at.is_some_and(|d| d >= starts_at) {
        return Err(AppError::invalid_field(
            "draw_at",
            "the draw must take place before the session starts",
        ));
    }
    Ok(())
}

/// Changes how a session's seats are given out. The allocation and its
/// times change only before the draw, and a lottery holding applications
/// stays a lottery; how long a freed seat is held may change at any time.
pub fn set_allocation(
    conn: &mut DbConnection,
    ctx: &Context,
    id: SessionId,
    input: &RulesInput,
) -> AppResult<Session> {
    crate::db::locks::session(conn, id)?;
    let row = scheduled(conn, ctx, id)?;
    let mut v = Checker::new();
    let rules = row.rules().apply(input, &mut v);
    v.finish()?;
    let draw_changed = (
        rules.allocation,
        rules.applications_close_at,
        rules.draw_at,
        rules.first_timers_first,
    ) != (
        row.allocation,
        row.applications_close_at,
        row.draw_at,
        row.first_timers_first,
    );
    if draw_changed && row.drawn_at.is_some() {
        return Err(AppError::conflict(
            "already_drawn",
            "the lottery has been drawn: only offer_hours can change now",
        ));
    }
    if !rules.is_lottery() && row.applications_count > 0 {
        return Err(AppError::conflict(
            "has_applications",
            format!(
                "{} resident(s) applied for the draw: cancel their applications first",
                row.applications_count
            ),
        ));
    }
    draw_before_start(&rules, row.starts_at)?;
    if rules.is_lottery()
        && row.allocation != Allocation::Lottery
        && (row.seats_taken > 0 || row.waitlist_count > 0)
    {
        return Err(AppError::conflict(
            "has_bookings",
            "seats are already booked first come: a lottery is for sessions without bookings",
        ));
    }
    queries::update_session(
        conn,
        id,
        SessionChanges {
            allocation: Some(rules.allocation),
            applications_close_at: Some(rules.applications_close_at),
            draw_at: Some(rules.draw_at),
            offer_hours: Some(rules.offer_hours),
            first_timers_first: Some(rules.first_timers_first),
            detached: Some(true),
            ..Default::default()
        },
    )?;
    crate::audit::record(
        conn,
        ctx,
        "session.allocation",
        "session",
        id,
        format!(
            "allocation {}{}; offers {}",
            rules.allocation,
            rules
                .draw_at
                .map(|d| format!(", draw at {} UTC", d.format("%Y-%m-%d %H:%M")))
                .unwrap_or_default(),
            rules
                .offer_hours
                .map_or("promote at once".to_owned(), |h| format!("held {h} h"))
        ),
    )?;
    one(conn, ctx, id)
}
