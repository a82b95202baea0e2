//! Service levels of tickets: targets per priority in business minutes, and
//! the figures the API shows (due times, paused while waiting on the
//! resident, overdue and at-risk flags), counted in the organisation's
//! business calendar (`crate::calendar`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::types::{Sla, Ticket, TicketRow, TicketStatus};
use crate::calendar::{self, BusinessCalendar};
use crate::db::schema::ticket_events;
use crate::db::{DbConnection, OrganisationId, TicketId, VenueId};
use crate::error::AppResult;

/// First-response and resolution targets of a priority, in business minutes.
pub fn targets(priority: &str) -> (i64, i64) {
    match priority {
        "urgent" => (30, 4 * 60),
        "high" => (60, 8 * 60),
        "low" => (8 * 60, 5 * 8 * 60),
        _ => (4 * 60, 3 * 8 * 60),
    }
}

/// A status change: from, to, when.
pub type StatusChange = (Option<String>, Option<String>, NaiveDateTime);

/// Status changes of many tickets in one query: ticket → [(from, to, at)].
fn status_changes(
    conn: &mut DbConnection,
    ids: &[TicketId],
) -> QueryResult<HashMap<String, Vec<StatusChange>>> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows: Vec<(String, Option<String>, Option<String>, NaiveDateTime)> = ticket_events::table
        .filter(ticket_events::ticket_id.eq_any(keys))
        .filter(ticket_events::kind.eq_any(["status", "assigned"]))
        .order(ticket_events::id.asc())
        .select((
            ticket_events::ticket_id,
            ticket_events::from_status,
            ticket_events::to_status,
            ticket_events::created_at,
        ))
        .load(conn)?;
    let mut map: HashMap<String, Vec<_>> = HashMap::new();
    for (ticket, from, to, at) in rows {
        map.entry(ticket).or_default().push((from, to, at));
    }
    Ok(map)
}

/// The service-level view of one ticket at `now`.
pub fn compute(
    row: &TicketRow,
    changes: &[(Option<String>, Option<String>, NaiveDateTime)],
    cal: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Sla {
    let (first_target, resolve_target) = targets(row.priority.as_str());
    let created = row.received_at.and_utc();
    // Business minutes spent waiting on the resident stop the resolution clock.
    let mut paused_minutes = 0;
    let mut waiting_since: Option<DateTime<Utc>> = None;
    for (from, to, at) in changes {
        let at = at.and_utc();
        if to.as_deref() == Some("waiting_on_resident") {
            waiting_since = Some(at);
        } else if from.as_deref() == Some("waiting_on_resident")
            && let Some(since) = waiting_since.take()
        {
            paused_minutes += cal.business_minutes_between(since, at);
        }
    }
    let status = row.status();
    let paused = status == TicketStatus::WaitingOnResident;
    let first_due = cal.add_business_minutes(created, first_target);
    let resolution_due =
        (!paused).then(|| cal.add_business_minutes(created, resolve_target + paused_minutes));
    let open = status.is_open();
    let first_late = row.first_response_at.is_none() && now > first_due;
    let resolve_late = resolution_due.is_some_and(|due| now > due);
    let overdue = open && (first_late || resolve_late);
    let at_risk = open
        && !overdue
        && ((row.first_response_at.is_none()
            && cal.business_minutes_between(now, first_due) * 4 <= first_target)
            || resolution_due
                .is_some_and(|due| cal.business_minutes_between(now, due) * 4 <= resolve_target));
    Sla {
        first_response_target_minutes: first_target,
        resolution_target_minutes: resolve_target,
        first_response_due_at: first_due,
        resolution_due_at: resolution_due,
        paused,
        overdue,
        at_risk,
    }
}

/// Tickets as answers, with their service levels (two queries for any number).
pub fn annotate(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    rows: Vec<TicketRow>,
) -> AppResult<Vec<Ticket>> {
    let calendars = Calendars::of(conn, organisation, &rows)?;
    let ids: Vec<TicketId> = rows.iter().map(|r| r.id).collect();
    let changes = status_changes(conn, &ids)?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|row| {
            let sla = compute(
                &row,
                changes
                    .get(&row.id.to_string())
                    .map(Vec::as_slice)
                    .unwrap_or(&[]),
                calendars.of_ticket(&row),
                now,
            );
            let mut ticket = Ticket::from(row);
            ticket.sla = Some(sla);
            ticket
        })
        .collect())
}

/// The business calendars tickets are measured in: a ticket taken at a
/// venue counts in that venue's hours and closures (falling back to the
/// organisation's hours), any other in the organisation's. One calendar per
/// distinct venue.
pub struct Calendars {
    organisation: BusinessCalendar,
    venues: HashMap<VenueId, BusinessCalendar>,
}

impl Calendars {
    pub fn of(
        conn: &mut DbConnection,
        organisation: OrganisationId,
        rows: &[TicketRow],
    ) -> QueryResult<Calendars> {
        let mut venues = HashMap::new();
        for venue in rows.iter().filter_map(|r| r.venue_id) {
            if let std::collections::hash_map::Entry::Vacant(slot) = venues.entry(venue) {
                slot.insert(calendar::business_calendar(
                    conn,
                    organisation,
                    Some(venue),
                )?);
            }
        }
        Ok(Calendars {
            organisation: calendar::business_calendar(conn, organisation, None)?,
            venues,
        })
    }

    pub fn of_ticket(&self, row: &TicketRow) -> &BusinessCalendar {
        row.venue_id
            .and_then(|v| self.venues.get(&v))
            .unwrap_or(&self.organisation)
    }
}
