//! Schedule queries: closures, series, sessions and their instructors.
//! Every look-up by id is scoped to an organisation.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::types::{
    ClosureFilter, ClosureRow, CourseRef, InstructorRef, SeriesFilter, SeriesRow, SessionFilter,
    SessionRow, VenueRef,
};
use crate::db::schema::{
    calendar_feeds, closures, courses, series, series_exception_dates, series_instructors,
    session_instructors, sessions, staff_accounts, venues,
};
use crate::db::{
    AccountId, ClosureId, CourseId, DbConnection, OrganisationId, SeriesId, SessionId, VenueId,
};

// ---- closures ----

pub fn insert_closure(conn: &mut DbConnection, row: &ClosureRow) -> QueryResult<()> {
    diesel::insert_into(closures::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn list_closures(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &ClosureFilter,
) -> QueryResult<Vec<ClosureRow>> {
    let mut query = closures::table
        .filter(closures::organisation_id.eq(organisation))
        .select(ClosureRow::as_select())
        .order(closures::starts_local.asc())
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(closures::ends_local.gt(from.and_time(chrono::NaiveTime::MIN)));
    }
    if let Some(to) = filter.to {
        query = query.filter(
            closures::starts_local
                .lt((to + chrono::Duration::days(1)).and_time(chrono::NaiveTime::MIN)),
        );
    }
    query.load(conn)
}

pub fn delete_closure(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: ClosureId,
) -> QueryResult<Option<ClosureRow>> {
    let row = closures::table
        .filter(closures::organisation_id.eq(organisation))
        .filter(closures::id.eq(id))
        .select(ClosureRow::as_select())
        .first(conn)
        .optional()?;
    if row.is_some() {
        diesel::delete(closures::table.filter(closures::id.eq(id))).execute(conn)?;
    }
    Ok(row)
}

/// The closures that apply at a venue: the organisation's and the venue's
/// own (used when expanding series).
pub fn closures_at(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    venue: VenueId,
) -> QueryResult<Vec<ClosureRow>> {
    Ok(list_closures(
        conn,
        organisation,
        &ClosureFilter {
            from: None,
            to: None,
        },
    )?
    .into_iter()
    .filter(|c| c.venue_id.is_none_or(|v| v == venue))
    .collect())
}

// ---- series ----

pub fn insert_series(conn: &mut DbConnection, row: &SeriesRow) -> QueryResult<()> {
    diesel::insert_into(series::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn save_series(conn: &mut DbConnection, row: &SeriesRow) -> QueryResult<()> {
    diesel::update(series::table.filter(series::id.eq(row.id)))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_series(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: SeriesId,
) -> QueryResult<Option<SeriesRow>> {
    series::table
        .filter(series::organisation_id.eq(organisation))
        .filter(series::id.eq(id))
        .select(SeriesRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_series(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &SeriesFilter,
    limit: i64,
) -> QueryResult<Vec<SeriesRow>> {
    let mut query = series::table
        .filter(series::organisation_id.eq(organisation))
        .select(SeriesRow::as_select())
        .order(series::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(venue) = filter.venue_id {
        query = query.filter(series::venue_id.eq(VenueId(venue)));
    }
    if let Some(course) = filter.course_id {
        query = query.filter(series::course_id.eq(CourseId(course)));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(series::id.gt(SeriesId(cursor)));
    }
    query.load(conn)
}

/// Series whose sessions end before `horizon_end` (for the extending job).
pub fn series_to_extend(
    conn: &mut DbConnection,
    horizon_end: NaiveDate,
) -> QueryResult<Vec<SeriesRow>> {
    series::table
        .filter(series::active.eq(true))
        .filter(series::materialized_until.lt(horizon_end))
        .select(SeriesRow::as_select())
        .order(series::id.asc())
        .load(conn)
}

pub fn exception_dates(conn: &mut DbConnection, id: SeriesId) -> QueryResult<Vec<NaiveDate>> {
    series_exception_dates::table
        .filter(series_exception_dates::series_id.eq(id))
        .select(series_exception_dates::on_date)
        .order(series_exception_dates::on_date.asc())
        .load(conn)
}

pub fn set_exception_dates(
    conn: &mut DbConnection,
    id: SeriesId,
    dates: &[NaiveDate],
) -> QueryResult<()> {
    diesel::delete(series_exception_dates::table.filter(series_exception_dates::series_id.eq(id)))
        .execute(conn)?;
    for date in dates {
        diesel::insert_into(series_exception_dates::table)
            .values((
                series_exception_dates::series_id.eq(id),
                series_exception_dates::on_date.eq(date),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn series_instructor_ids(conn: &mut DbConnection, id: SeriesId) -> QueryResult<Vec<AccountId>> {
    series_instructors::table
        .filter(series_instructors::series_id.eq(id))
        .select(series_instructors::account_id)
        .order(series_instructors::account_id.asc())
        .load::<AccountId>(conn)
}

pub fn set_series_instructors(
    conn: &mut DbConnection,
    id: SeriesId,
    accounts: &[AccountId],
) -> QueryResult<()> {
    diesel::delete(series_instructors::table.filter(series_instructors::series_id.eq(id)))
        .execute(conn)?;
    for account in accounts {
        diesel::insert_into(series_instructors::table)
            .values((
                series_instructors::series_id.eq(id),
                series_instructors::account_id.eq(account),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// ---- sessions ----

pub fn insert_session(conn: &mut DbConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_session(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: SessionId,
) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .filter(sessions::organisation_id.eq(organisation))
        .filter(sessions::id.eq(id))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Sessions of a series starting at or after `from`.
pub fn future_sessions_of_series(
    conn: &mut DbConnection,
    id: SeriesId,
    from: NaiveDateTime,
) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::series_id.eq(id))
        .filter(sessions::starts_at.ge(from))
        .select(SessionRow::as_select())
        .order(sessions::starts_at.asc())
        .load(conn)
}

/// Occurrence dates a series already has a session for (any status or time).
pub fn occurrence_dates_of_series(
    conn: &mut DbConnection,
    id: SeriesId,
) -> QueryResult<Vec<NaiveDate>> {
    sessions::table
        .filter(sessions::series_id.eq(id))
        .filter(sessions::occurrence_date.is_not_null())
        .select(sessions::occurrence_date.assume_not_null())
        .load(conn)
}

pub fn delete_session(conn: &mut DbConnection, id: SessionId) -> QueryResult<()> {
    diesel::delete(session_instructors::table.filter(session_instructors::session_id.eq(id)))
        .execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::id.eq(id))).execute(conn)?;
    Ok(())
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = sessions)]
pub struct SessionChanges {
    pub course_id: Option<CourseId>,
    pub venue_id: Option<VenueId>,
    pub room: Option<Option<String>>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub capacity: Option<i32>,
    pub status: Option<super::types::SessionStatus>,
    pub cancel_reason: Option<Option<String>>,
    pub fee_yen: Option<i32>,
    pub loaner_fee_yen: Option<i32>,
    pub booking_opens_at: Option<Option<NaiveDateTime>>,
    pub booking_closes_at: Option<Option<NaiveDateTime>>,
    pub waitlist_enabled: Option<bool>,
    pub detached: Option<bool>,
    pub allocation: Option<super::allocation::Allocation>,
    pub applications_close_at: Option<Option<NaiveDateTime>>,
    pub draw_at: Option<Option<NaiveDateTime>>,
    pub offer_hours: Option<Option<i32>>,
    pub first_timers_first: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_session(
    conn: &mut DbConnection,
    id: SessionId,
    mut changes: SessionChanges,
) -> QueryResult<SessionRow> {
    changes.updated_at = Some(Utc::now().naive_utc());
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set(&changes)
        .returning(sessions::all_columns)
        .get_result(conn)
}

/// Resizes only if the new capacity still holds every confirmed booking:
/// `false` when it does not (checked in the same statement, so a booking
/// racing the resize cannot slip past).
pub fn resize_session(conn: &mut DbConnection, id: SessionId, capacity: i32) -> QueryResult<bool> {
    let updated = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::seats_taken.le(capacity)),
    )
    .set((
        sessions::capacity.eq(capacity),
        sessions::detached.eq(true),
        sessions::updated_at.eq(Utc::now().naive_utc()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn session_instructor_ids(
    conn: &mut DbConnection,
    id: SessionId,
) -> QueryResult<Vec<AccountId>> {
    session_instructors::table
        .filter(session_instructors::session_id.eq(id))
        .select(session_instructors::account_id)
        .order(session_instructors::account_id.asc())
        .load::<AccountId>(conn)
}

pub fn set_session_instructors(
    conn: &mut DbConnection,
    id: SessionId,
    accounts: &[AccountId],
) -> QueryResult<()> {
    diesel::delete(session_instructors::table.filter(session_instructors::session_id.eq(id)))
        .execute(conn)?;
    for account in accounts {
        diesel::insert_into(session_instructors::table)
            .values((
                session_instructors::session_id.eq(id),
                session_instructors::account_id.eq(account),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub type SessionListRow = (SessionRow, CourseId, String, String, VenueId, String);

/// A page of sessions with their course and venue names: one query.
pub fn list_sessions(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &SessionFilter,
    instructor: Option<AccountId>,
    after: Option<(NaiveDateTime, SessionId)>,
    limit: i64,
) -> QueryResult<Vec<SessionListRow>> {
    let from = filter
        .from
        .map(|t| t.naive_utc())
        .unwrap_or_else(|| Utc::now().naive_utc());
    let mut query = sessions::table
        .inner_join(courses::table)
        .inner_join(venues::table)
        .filter(sessions::organisation_id.eq(organisation))
        .filter(sessions::starts_at.ge(from))
        .select((
            SessionRow::as_select(),
            courses::id,
            courses::title,
            courses::kind,
            venues::id,
            venues::name,
        ))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some(to) = filter.to {
        query = query.filter(sessions::starts_at.lt(to.naive_utc()));
    }
    if let Some(venue) = filter.venue_id {
        query = query.filter(sessions::venue_id.eq(VenueId(venue)));
    }
    if let Some(course) = filter.course_id {
        query = query.filter(sessions::course_id.eq(CourseId(course)));
    }
    if let Some(series) = filter.series_id {
        query = query.filter(sessions::series_id.eq(SeriesId(series)));
    }
    if let Some(status) = filter.status {
        query = query.filter(sessions::status.eq(status));
    }
    if filter.available == Some(true) {
        query = query
            .filter(sessions::status.eq(crate::schedule::types::SessionStatus::Scheduled))
            .filter(sessions::seats_taken.lt(sessions::capacity));
    }
    if let Some(account) = instructor {
        let taught = session_instructors::table
            .filter(session_instructors::account_id.eq(account))
            .select(session_instructors::session_id);
        query = query.filter(sessions::id.nullable().eq_any(taught.nullable()));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            sessions::starts_at
                .gt(at)
                .or(sessions::starts_at.eq(at).and(sessions::id.gt(id))),
        );
    }
    query.load(conn)
}

/// One session with its course and venue names.
pub fn session_with_names(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: SessionId,
) -> QueryResult<Option<SessionListRow>> {
    sessions::table
        .inner_join(courses::table)
        .inner_join(venues::table)
        .filter(sessions::organisation_id.eq(organisation))
        .filter(sessions::id.eq(id))
        .select((
            SessionRow::as_select(),
            courses::id,
            courses::title,
            courses::kind,
            venues::id,
            venues::name,
        ))
        .first(conn)
        .optional()
}

/// Instructors of many sessions: one query.
pub fn instructors_of(
    conn: &mut DbConnection,
    ids: &[SessionId],
) -> QueryResult<HashMap<String, Vec<InstructorRef>>> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows: Vec<(String, AccountId, String)> = session_instructors::table
        .inner_join(staff_accounts::table)
        .filter(session_instructors::session_id.eq_any(keys))
        .select((
            session_instructors::session_id,
            staff_accounts::id,
            staff_accounts::name,
        ))
        .order((session_instructors::session_id, staff_accounts::name))
        .load(conn)?;
    let mut map: HashMap<String, Vec<InstructorRef>> = HashMap::new();
    for (session, id, name) in rows {
        map.entry(session)
            .or_default()
            .push(InstructorRef { id, name });
    }
    Ok(map)
}

pub fn refs(row: &SessionListRow) -> (CourseRef, VenueRef) {
    (
        CourseRef {
            id: row.1,
            title: row.2.clone(),
            kind: row.3.clone(),
        },
        VenueRef {
            id: row.4,
            name: row.5.clone(),
        },
    )
}

/// Scheduled sessions overlapping `[from, to)` (UTC).
pub fn sessions_overlapping(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    venue: Option<VenueId>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<SessionListRow>> {
    let mut query = sessions::table
        .inner_join(courses::table)
        .inner_join(venues::table)
        .filter(sessions::organisation_id.eq(organisation))
        .filter(sessions::status.eq(crate::schedule::types::SessionStatus::Scheduled))
        .filter(sessions::starts_at.lt(to))
        .filter(sessions::ends_at.gt(from))
        .select((
            SessionRow::as_select(),
            courses::id,
            courses::title,
            courses::kind,
            venues::id,
            venues::name,
        ))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .into_boxed();
    if let Some(v) = venue {
        query = query.filter(sessions::venue_id.eq(v));
    }
    query.load(conn)
}

// ---- job leases ----

/// The scheduled sessions of a series yet to start, in date order.
pub fn remaining_sessions(
    conn: &mut DbConnection,
    series: SeriesId,
) -> QueryResult<Vec<SessionId>> {
    sessions::table
        .filter(sessions::series_id.eq(series))
        .filter(sessions::status.eq(crate::schedule::types::SessionStatus::Scheduled))
        .filter(sessions::starts_at.gt(Utc::now().naive_utc()))
        .order(sessions::starts_at.asc())
        .select(sessions::id)
        .load(conn)
}

/// Revokes the target's live feeds and issues a new token.
pub fn rotate_feed(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    scope: &str,
    target: &str,
) -> QueryResult<String> {
    let now = Utc::now().naive_utc();
    diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::scope.eq(scope))
            .filter(calendar_feeds::target_id.eq(target))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(now))
    .execute(conn)?;
    let token = crate::auth::tokens::generate();
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::id.eq(uuid::Uuid::now_v7().to_string()),
            calendar_feeds::organisation_id.eq(organisation),
            calendar_feeds::scope.eq(scope),
            calendar_feeds::target_id.eq(target),
            calendar_feeds::token_hash.eq(crate::auth::tokens::digest(&token)),
            calendar_feeds::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The organisation of a live feed for this target and token.
pub fn feed_owner(
    conn: &mut DbConnection,
    scope: &str,
    target: &str,
    token: &str,
) -> QueryResult<Option<OrganisationId>> {
    calendar_feeds::table
        .filter(calendar_feeds::scope.eq(scope))
        .filter(calendar_feeds::target_id.eq(target))
        .filter(calendar_feeds::token_hash.eq(crate::auth::tokens::digest(token)))
        .filter(calendar_feeds::revoked_at.is_null())
        .select(calendar_feeds::organisation_id)
        .first::<OrganisationId>(conn)
        .optional()
}

/// The active series of a course, oldest first (a course in parts: 前期, 後期).
pub fn series_of_course(conn: &mut DbConnection, course: CourseId) -> QueryResult<Vec<SeriesId>> {
    series::table
        .filter(series::course_id.eq(course))
        .filter(series::active.eq(true))
        .order((series::starts_on.asc(), series::id.asc()))
        .select(series::id)
        .load(conn)
}
