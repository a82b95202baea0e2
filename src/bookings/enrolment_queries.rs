//! Enrolment, course-enrolment and conflict rows.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::types::Channel;
use crate::db::schema::{course_enrolments, enrolment_conflicts, enrolments, sessions};
use crate::db::{
    AccountId, CourseEnrolmentId, CourseId, DbConnection, EnrolmentConflictId, EnrolmentId,
    OrganisationId, ResidentId, SeriesId, SessionId,
};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enrolments)]
pub struct EnrolmentRow {
    pub id: EnrolmentId,
    pub organisation_id: OrganisationId,
    pub series_id: SeriesId,
    pub resident_id: ResidentId,
    pub status: String,
    pub entered_by: AccountId,
    pub cancel_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub cancelled_at: Option<NaiveDateTime>,
    pub channel: Channel,
    pub needs_loaner: bool,
    /// `book_without`, `waitlist` or none (ask).
    pub if_no_loaner: Option<String>,
    pub course_enrolment_id: Option<CourseEnrolmentId>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = course_enrolments)]
pub struct CourseEnrolmentRow {
    pub id: CourseEnrolmentId,
    pub organisation_id: OrganisationId,
    pub course_id: CourseId,
    pub resident_id: ResidentId,
    pub status: String,
    pub channel: Channel,
    pub needs_loaner: bool,
    pub if_no_loaner: Option<String>,
    pub entered_by: AccountId,
    pub cancel_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub cancelled_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enrolment_conflicts)]
pub struct ConflictRow {
    pub id: EnrolmentConflictId,
    pub organisation_id: OrganisationId,
    pub enrolment_id: EnrolmentId,
    pub session_id: SessionId,
    pub code: String,
    pub detail: String,
    /// `open`, `resolved` or `dismissed`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<AccountId>,
    pub close_note: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &EnrolmentRow) -> QueryResult<()> {
    diesel::insert_into(enrolments::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_course(conn: &mut DbConnection, row: &CourseEnrolmentRow) -> QueryResult<()> {
    diesel::insert_into(course_enrolments::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: EnrolmentId,
) -> QueryResult<Option<EnrolmentRow>> {
    enrolments::table
        .filter(enrolments::organisation_id.eq(organisation))
        .filter(enrolments::id.eq(id))
        .select(EnrolmentRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_course(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: CourseEnrolmentId,
) -> QueryResult<Option<CourseEnrolmentRow>> {
    course_enrolments::table
        .filter(course_enrolments::organisation_id.eq(organisation))
        .filter(course_enrolments::id.eq(id))
        .select(CourseEnrolmentRow::as_select())
        .first(conn)
        .optional()
}

/// The series enrolments of a course enrolment, oldest first.
pub fn of_course_enrolment(
    conn: &mut DbConnection,
    id: CourseEnrolmentId,
) -> QueryResult<Vec<EnrolmentRow>> {
    enrolments::table
        .filter(enrolments::course_enrolment_id.eq(id))
        .order(enrolments::created_at.asc())
        .select(EnrolmentRow::as_select())
        .load(conn)
}

/// Active enrolments of a series.
pub fn active_of_series(
    conn: &mut DbConnection,
    series: SeriesId,
) -> QueryResult<Vec<EnrolmentRow>> {
    enrolments::table
        .filter(enrolments::series_id.eq(series))
        .filter(enrolments::status.eq("active"))
        .order(enrolments::created_at.asc())
        .select(EnrolmentRow::as_select())
        .load(conn)
}

/// Active course enrolments of a course that have no series enrolment
/// (active or withdrawn) for `series` yet.
pub fn course_enrolments_missing(
    conn: &mut DbConnection,
    course: CourseId,
    series: SeriesId,
) -> QueryResult<Vec<CourseEnrolmentRow>> {
    let covered = enrolments::table
        .filter(enrolments::series_id.eq(series))
        .filter(enrolments::course_enrolment_id.is_not_null())
        .select(enrolments::course_enrolment_id.assume_not_null());
    course_enrolments::table
        .filter(course_enrolments::course_id.eq(course))
        .filter(course_enrolments::status.eq("active"))
        .filter(course_enrolments::id.ne_all(covered))
        .order(course_enrolments::created_at.asc())
        .select(CourseEnrolmentRow::as_select())
        .load(conn)
}

pub fn cancel(conn: &mut DbConnection, id: EnrolmentId, reason: &str) -> QueryResult<()> {
    diesel::update(enrolments::table.filter(enrolments::id.eq(id)))
        .set((
            enrolments::status.eq("cancelled"),
            enrolments::cancel_reason.eq(reason),
            enrolments::cancelled_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn cancel_course(
    conn: &mut DbConnection,
    id: CourseEnrolmentId,
    reason: &str,
) -> QueryResult<()> {
    diesel::update(course_enrolments::table.filter(course_enrolments::id.eq(id)))
        .set((
            course_enrolments::status.eq("cancelled"),
            course_enrolments::cancel_reason.eq(reason),
            course_enrolments::cancelled_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Future scheduled sessions of a series, in date order.
pub fn future_sessions(conn: &mut DbConnection, series: SeriesId) -> QueryResult<Vec<SessionId>> {
    crate::schedule::queries::remaining_sessions(conn, series)
}

pub fn insert_conflict(conn: &mut DbConnection, row: &ConflictRow) -> QueryResult<()> {
    diesel::insert_into(enrolment_conflicts::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_conflict(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: EnrolmentConflictId,
) -> QueryResult<Option<ConflictRow>> {
    enrolment_conflicts::table
        .filter(enrolment_conflicts::organisation_id.eq(organisation))
        .filter(enrolment_conflicts::id.eq(id))
        .select(ConflictRow::as_select())
        .first(conn)
        .optional()
}

/// Conflicts of the organisation with `status`, in session order, with
/// their sessions' start.
pub fn conflicts(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    status: &str,
    limit: i64,
) -> QueryResult<Vec<(ConflictRow, NaiveDateTime, EnrolmentRow)>> {
    enrolment_conflicts::table
        .inner_join(sessions::table.on(sessions::id.eq(enrolment_conflicts::session_id)))
        .inner_join(enrolments::table.on(enrolments::id.eq(enrolment_conflicts::enrolment_id)))
        .filter(enrolment_conflicts::organisation_id.eq(organisation))
        .filter(enrolment_conflicts::status.eq(status))
        .order((sessions::starts_at.asc(), enrolment_conflicts::id.asc()))
        .limit(limit)
        .select((
            ConflictRow::as_select(),
            sessions::starts_at,
            EnrolmentRow::as_select(),
        ))
        .load(conn)
}

/// Closes every open conflict of an enrolment (`resolved`) or one
/// (`dismissed`); the number closed.
pub fn close_conflicts(
    conn: &mut DbConnection,
    enrolment: EnrolmentId,
    only: Option<EnrolmentConflictId>,
    status: &str,
    by: Option<AccountId>,
    note: Option<&str>,
) -> QueryResult<usize> {
    let changes = (
        enrolment_conflicts::status.eq(status),
        enrolment_conflicts::closed_at.eq(now()),
        enrolment_conflicts::closed_by.eq(by),
        enrolment_conflicts::close_note.eq(note),
    );
    let open = enrolment_conflicts::table
        .filter(enrolment_conflicts::enrolment_id.eq(enrolment))
        .filter(enrolment_conflicts::status.eq("open"));
    match only {
        Some(id) => diesel::update(open.filter(enrolment_conflicts::id.eq(id)))
            .set(changes)
            .execute(conn),
        None => diesel::update(open).set(changes).execute(conn),
    }
}
