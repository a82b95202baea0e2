//! Ticket queries, scoped to an organisation.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::types::{TicketFilter, TicketRow, TicketStatus};
use crate::db::schema::{
    ticket_categories, ticket_events, ticket_messages, ticket_queue_counters, tickets,
};
use crate::db::{AccountId, DbConnection, OrganisationId, TicketId, VenueId, escape_like, lower};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Category codes the organisation may use: the shared list and its own.
pub fn category_codes(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> QueryResult<Vec<(String, String, bool)>> {
    ticket_categories::table
        .filter(
            ticket_categories::organisation_id
                .is_null()
                .or(ticket_categories::organisation_id.eq(organisation)),
        )
        .order(ticket_categories::id.asc())
        .select((
            ticket_categories::code,
            ticket_categories::label,
            ticket_categories::organisation_id.is_not_null(),
        ))
        .load(conn)
}

pub fn insert_category(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    code: &str,
    label: &str,
) -> QueryResult<()> {
    diesel::insert_into(ticket_categories::table)
        .values((
            ticket_categories::id.eq(uuid::Uuid::now_v7().to_string()),
            ticket_categories::organisation_id.eq(organisation),
            ticket_categories::code.eq(code),
            ticket_categories::label.eq(label),
            ticket_categories::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The venue's next walk-in number of a local day (1, 2, 3 …), handed out
/// under the venue row's lock so two tickets never share one.
pub fn next_queue_number(
    conn: &mut DbConnection,
    venue: VenueId,
    date: NaiveDate,
) -> QueryResult<i32> {
    crate::db::locks::venue(conn, venue)?;
    let last: Option<i32> = ticket_queue_counters::table
        .filter(ticket_queue_counters::venue_id.eq(venue))
        .filter(ticket_queue_counters::local_date.eq(date))
        .select(ticket_queue_counters::last_number)
        .first(conn)
        .optional()?;
    let next = last.unwrap_or(0) + 1;
    if last.is_some() {
        diesel::update(
            ticket_queue_counters::table
                .filter(ticket_queue_counters::venue_id.eq(venue))
                .filter(ticket_queue_counters::local_date.eq(date)),
        )
        .set(ticket_queue_counters::last_number.eq(next))
        .execute(conn)?;
    } else {
        diesel::insert_into(ticket_queue_counters::table)
            .values((
                ticket_queue_counters::venue_id.eq(venue),
                ticket_queue_counters::local_date.eq(date),
                ticket_queue_counters::last_number.eq(next),
            ))
            .execute(conn)?;
    }
    Ok(next)
}

pub fn insert(conn: &mut DbConnection, row: &TicketRow) -> QueryResult<()> {
    diesel::insert_into(tickets::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: TicketId,
) -> QueryResult<Option<TicketRow>> {
    tickets::table
        .filter(tickets::organisation_id.eq(organisation))
        .filter(tickets::id.eq(id))
        .select(TicketRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = tickets)]
pub struct TicketChanges {
    pub status: Option<TicketStatus>,
    pub assignee_id: Option<Option<crate::db::AccountId>>,
    pub called_at: Option<Option<NaiveDateTime>>,
    pub first_response_at: Option<Option<NaiveDateTime>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies changes only if the ticket is still in `from` (a conditional
/// update): `false` when a parallel change moved it first.
pub fn update_from(
    conn: &mut DbConnection,
    id: TicketId,
    from: TicketStatus,
    mut changes: TicketChanges,
) -> QueryResult<bool> {
    changes.updated_at = Some(now());
    let updated = diesel::update(
        tickets::table
            .filter(tickets::id.eq(id))
            .filter(tickets::status.eq(from)),
    )
    .set(&changes)
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn record_event(
    conn: &mut DbConnection,
    ticket: TicketId,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    body: Option<&str>,
    actor: Option<AccountId>,
) -> QueryResult<()> {
    diesel::insert_into(ticket_events::table)
        .values((
            ticket_events::id.eq(uuid::Uuid::now_v7().to_string()),
            ticket_events::ticket_id.eq(ticket),
            ticket_events::kind.eq(kind),
            ticket_events::from_status.eq(from),
            ticket_events::to_status.eq(to),
            ticket_events::body.eq(body),
            ticket_events::actor_id.eq(actor.map(|a| a.to_string())),
            ticket_events::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub type EventRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<crate::db::AccountId>,
    NaiveDateTime,
);

pub fn timeline(conn: &mut DbConnection, ticket: TicketId) -> QueryResult<Vec<EventRow>> {
    ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket))
        .order(ticket_events::id.asc())
        .select((
            ticket_events::kind,
            ticket_events::from_status,
            ticket_events::to_status,
            ticket_events::body,
            ticket_events::actor_id,
            ticket_events::created_at,
        ))
        .load(conn)
}

pub fn queue_message(
    conn: &mut DbConnection,
    ticket: TicketId,
    to: &str,
    body: &str,
) -> QueryResult<()> {
    diesel::insert_into(ticket_messages::table)
        .values((
            ticket_messages::id.eq(uuid::Uuid::now_v7().to_string()),
            ticket_messages::ticket_id.eq(ticket),
            ticket_messages::to_email.eq(to),
            ticket_messages::body.eq(body),
            ticket_messages::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// `own_and_unassigned`: a volunteer sees their own queue and the unassigned one.
pub fn list(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &TicketFilter,
    me: AccountId,
    own_and_unassigned: bool,
    limit: i64,
) -> QueryResult<Vec<TicketRow>> {
    let mut query = tickets::table
        .filter(tickets::organisation_id.eq(organisation))
        .select(TicketRow::as_select())
        .order(tickets::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(tickets::status.eq(status));
    }
    if let Some(category) = &filter.category {
        query = query.filter(tickets::category.eq(category.clone()));
    }
    if let Some(channel) = &filter.channel {
        query = query.filter(tickets::channel.eq(channel.clone()));
    }
    if let Some(priority) = &filter.priority {
        query = query.filter(tickets::priority.eq(priority.clone()));
    }
    if let Some(assignee) = filter.assignee_id {
        query = query.filter(tickets::assignee_id.eq(crate::db::AccountId(assignee)));
    }
    if own_and_unassigned {
        query = query.filter(
            tickets::assignee_id
                .is_null()
                .or(tickets::assignee_id.eq(me)),
        );
    }
    match filter.queue.as_deref() {
        Some("mine") => query = query.filter(tickets::assignee_id.eq(me)),
        Some("unassigned") => query = query.filter(tickets::assignee_id.is_null()),
        _ => {}
    }
    if let Some(venue) = filter.venue_id {
        query = query.filter(tickets::venue_id.eq(crate::db::VenueId(venue)));
    }
    if let Some(from) = filter.from {
        query = query.filter(tickets::received_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.to {
        query = query.filter(tickets::received_at.lt(to.naive_utc()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", escape_like(&q.to_lowercase()));
        query = query.filter(
            lower(tickets::subject)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(tickets::description.assume_not_null())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(tickets::id.gt(TicketId(cursor)));
    }
    query.load(conn)
}

/// Statuses of the organisation's tickets (for dashboard counts).
pub fn statuses(conn: &mut DbConnection, organisation: OrganisationId) -> QueryResult<Vec<String>> {
    tickets::table
        .filter(tickets::organisation_id.eq(organisation))
        .select(tickets::status)
        .load(conn)
}

/// A venue's walk-in tickets of a local day, in queue order.
pub fn queue_of(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    venue: VenueId,
    date: NaiveDate,
) -> QueryResult<Vec<TicketRow>> {
    tickets::table
        .filter(tickets::organisation_id.eq(organisation))
        .filter(tickets::venue_id.eq(venue))
        .filter(tickets::queue_date.eq(date))
        .order(tickets::queue_number.asc())
        .select(TicketRow::as_select())
        .load(conn)
}

/// Tickets received in `[from, to)` (for statistics).
pub fn received_between(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<TicketRow>> {
    tickets::table
        .filter(tickets::organisation_id.eq(organisation))
        .filter(tickets::received_at.ge(from))
        .filter(tickets::received_at.lt(to))
        .order(tickets::id.asc())
        .select(TicketRow::as_select())
        .load(conn)
}

/// Closes tickets resolved before `cutoff`; the ids closed.
pub fn close_resolved_before(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
) -> QueryResult<Vec<TicketId>> {
    let ids: Vec<TicketId> = tickets::table
        .filter(tickets::status.eq(TicketStatus::Resolved))
        .filter(tickets::resolved_at.lt(cutoff))
        .select(tickets::id)
        .load::<TicketId>(conn)?;
    for id in &ids {
        if update_from(
            conn,
            *id,
            TicketStatus::Resolved,
            TicketChanges {
                status: Some(TicketStatus::Closed),
                closed_at: Some(Some(now())),
                ..Default::default()
            },
        )? {
            record_event(
                conn,
                *id,
                "status",
                Some(TicketStatus::Resolved.as_str()),
                Some(TicketStatus::Closed.as_str()),
                Some("closed automatically"),
                None,
            )?;
        }
    }
    Ok(ids)
}

/// Replaces the secret of a venue's board link (its digest).
pub fn set_board_link(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    venue: VenueId,
    token_hash: &str,
) -> QueryResult<()> {
    use crate::db::schema::board_links;
    diesel::delete(board_links::table.filter(board_links::venue_id.eq(venue))).execute(conn)?;
    diesel::insert_into(board_links::table)
        .values((
            board_links::venue_id.eq(venue),
            board_links::organisation_id.eq(organisation),
            board_links::token_hash.eq(token_hash),
            board_links::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The organisation of a venue whose board link has this digest.
pub fn board_owner(
    conn: &mut DbConnection,
    venue: VenueId,
    token_hash: &str,
) -> QueryResult<Option<OrganisationId>> {
    use crate::db::schema::board_links;
    board_links::table
        .filter(board_links::venue_id.eq(venue))
        .filter(board_links::token_hash.eq(token_hash))
        .select(board_links::organisation_id)
        .first(conn)
        .optional()
}
