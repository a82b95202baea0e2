//! Outbox and call-list queries.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::types::{CallRow, CallStatus, Kind, MailStatus, OutboxRow};
use crate::db::schema::{call_list_items, call_outcomes, outbox_messages, residents};
use crate::db::{AccountId, DbConnection, OrganisationId, VenueId};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub fn insert_mail(conn: &mut DbConnection, row: &OutboxRow) -> QueryResult<()> {
    diesel::insert_into(outbox_messages::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_call(conn: &mut DbConnection, row: &CallRow) -> QueryResult<()> {
    diesel::insert_into(call_list_items::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Pending messages of every organisation in the order they were written
/// (ids are time-ordered), at most `limit`.
pub fn pending(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox_messages::table
        .filter(outbox_messages::status.eq(MailStatus::Pending))
        .order((outbox_messages::created_at.asc(), outbox_messages::id.asc()))
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}

pub fn mark_sent(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(outbox_messages::table.filter(outbox_messages::id.eq(id)))
        .set((
            outbox_messages::status.eq(MailStatus::Sent),
            outbox_messages::sent_at.eq(now()),
            outbox_messages::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records a failed try: back to pending at `next`, or `failed`.
pub fn mark_attempt(
    conn: &mut DbConnection,
    id: &str,
    attempts: i32,
    status: MailStatus,
    next: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(outbox_messages::table.filter(outbox_messages::id.eq(id)))
        .set((
            outbox_messages::status.eq(status),
            outbox_messages::attempts.eq(attempts),
            outbox_messages::next_attempt_at.eq(next),
            outbox_messages::last_error.eq(error),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Notes a connection error on waiting messages without using up a try.
pub fn note_unreachable(conn: &mut DbConnection, ids: &[String], error: &str) -> QueryResult<()> {
    diesel::update(outbox_messages::table.filter(outbox_messages::id.eq_any(ids)))
        .set(outbox_messages::last_error.eq(error))
        .execute(conn)
        .map(|_| ())
}

pub fn list_mail(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    status: MailStatus,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let mut query = outbox_messages::table
        .filter(outbox_messages::organisation_id.eq(organisation))
        .filter(outbox_messages::status.eq(status))
        .order(outbox_messages::id.asc())
        .limit(limit + 1)
        .select(OutboxRow::as_select())
        .into_boxed();
    if let Some(c) = cursor {
        query = query.filter(outbox_messages::id.gt(c.to_owned()));
    }
    query.load(conn)
}

pub fn find_mail(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: &str,
) -> QueryResult<Option<OutboxRow>> {
    outbox_messages::table
        .filter(outbox_messages::organisation_id.eq(organisation))
        .filter(outbox_messages::id.eq(id))
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()
}

/// A failed message goes back to the queue with fresh tries.
pub fn retry_failed(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::update(
        outbox_messages::table
            .filter(outbox_messages::id.eq(id))
            .filter(outbox_messages::status.eq(MailStatus::Failed)),
    )
    .set((
        outbox_messages::status.eq(MailStatus::Pending),
        outbox_messages::attempts.eq(0),
        outbox_messages::next_attempt_at.eq(now()),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// (status, count, oldest creation) of the organisation's outbox, or of
/// every organisation's.
pub fn counts(
    conn: &mut DbConnection,
    organisation: Option<OrganisationId>,
) -> QueryResult<Vec<(MailStatus, i64, Option<NaiveDateTime>)>> {
    let mut out = Vec::new();
    for status in MailStatus::ALL {
        let mut query = outbox_messages::table
            .filter(outbox_messages::status.eq(*status))
            .into_boxed();
        if let Some(org) = organisation {
            query = query.filter(outbox_messages::organisation_id.eq(org));
        }
        let (count, oldest): (i64, Option<NaiveDateTime>) = query
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(outbox_messages::created_at),
            ))
            .first(conn)?;
        out.push((*status, count, oldest));
    }
    Ok(out)
}

/// Filters of the call list.
#[derive(Debug, Default, Clone)]
pub struct CallFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub venue: Option<VenueId>,
    pub reason: Option<Kind>,
    pub status: Option<CallStatus>,
    pub cursor: Option<String>,
}

/// Call items with the resident's name, kana and phone, soonest day first.
#[allow(clippy::type_complexity)]
pub fn list_calls(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &CallFilter,
    only_venue: Option<Option<VenueId>>,
    limit: i64,
) -> QueryResult<Vec<(CallRow, (String, String, String, String, Option<String>))>> {
    let mut query = call_list_items::table
        .inner_join(residents::table.on(residents::id.eq(call_list_items::resident_id)))
        .filter(call_list_items::organisation_id.eq(organisation))
        .order(call_list_items::id.asc())
        .limit(limit + 1)
        .select((
            CallRow::as_select(),
            (
                residents::family_name,
                residents::given_name,
                residents::family_name_kana,
                residents::given_name_kana,
                residents::phone,
            ),
        ))
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(call_list_items::due_on.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(call_list_items::due_on.le(to));
    }
    if let Some(venue) = filter.venue {
        query = query.filter(call_list_items::venue_id.eq(venue));
    }
    if let Some(reason) = filter.reason {
        query = query.filter(call_list_items::reason.eq(reason));
    }
    if let Some(status) = filter.status {
        query = query.filter(call_list_items::status.eq(status));
    }
    match only_venue {
        Some(Some(v)) => query = query.filter(call_list_items::venue_id.eq(v)),
        // A volunteer with no venue sees no calls.
        Some(None) => query = query.filter(call_list_items::id.eq("")),
        None => {}
    }
    if let Some(c) = &filter.cursor {
        query = query.filter(call_list_items::id.gt(c.clone()));
    }
    query.load(conn)
}

pub fn find_call(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: &str,
) -> QueryResult<Option<CallRow>> {
    call_list_items::table
        .filter(call_list_items::organisation_id.eq(organisation))
        .filter(call_list_items::id.eq(id))
        .select(CallRow::as_select())
        .first(conn)
        .optional()
}

/// Records an outcome on an open call (a conditional update: two staff
/// recording at once cannot both count the same try). False if it was
/// no longer open with `tries` tries.
#[allow(clippy::too_many_arguments)]
pub fn record_outcome(
    conn: &mut DbConnection,
    id: &str,
    tries_before: i32,
    outcome: &str,
    note: Option<&str>,
    status: CallStatus,
    due_on: NaiveDate,
    by: AccountId,
) -> QueryResult<bool> {
    let changed = diesel::update(
        call_list_items::table
            .filter(call_list_items::id.eq(id))
            .filter(call_list_items::status.eq(CallStatus::Open))
            .filter(call_list_items::tries.eq(tries_before)),
    )
    .set((
        call_list_items::tries.eq(tries_before + 1),
        call_list_items::status.eq(status),
        call_list_items::due_on.eq(due_on),
        call_list_items::last_outcome.eq(outcome),
        call_list_items::last_note.eq(note),
        call_list_items::closed_at.eq((status != CallStatus::Open).then(now)),
    ))
    .execute(conn)?;
    if changed == 1 {
        diesel::insert_into(call_outcomes::table)
            .values((
                call_outcomes::id.eq(uuid::Uuid::now_v7().to_string()),
                call_outcomes::call_id.eq(id),
                call_outcomes::outcome.eq(outcome),
                call_outcomes::note.eq(note),
                call_outcomes::recorded_by.eq(by),
                call_outcomes::created_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(changed == 1)
}

/// The venue a staff member works at.
pub fn venue_of(conn: &mut DbConnection, account: AccountId) -> QueryResult<Option<VenueId>> {
    use crate::db::schema::staff_accounts;
    staff_accounts::table
        .filter(staff_accounts::id.eq(account))
        .select(staff_accounts::venue_id)
        .first::<Option<VenueId>>(conn)
}
