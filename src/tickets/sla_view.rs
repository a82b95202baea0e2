//! Service-level figures of tickets as the API shows them: due times, paused
//! while waiting on the resident, overdue and at-risk flags.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::sla::{self, BusinessCalendar};
use super::types::{Ticket, TicketRow, TicketStatus};
use crate::db::schema::{opening_hours, ticket_events};
use crate::db::{DbConnection, OrganisationId, TicketId};
use crate::error::AppResult;
use crate::organisations;
use crate::schedule::queries as schedule;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sla {
    /// Business minutes allowed for the first response / the resolution.
    pub first_response_target_minutes: i64,
    pub resolution_target_minutes: i64,
    pub first_response_due_at: DateTime<Utc>,
    /// `null` while the clock is paused (waiting on the resident).
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub paused: bool,
    pub overdue: bool,
    /// Less than a quarter of the time is left.
    pub at_risk: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OpeningHours {
    /// `monday` … `sunday`
    pub weekday: String,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

pub fn stored_hours(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> QueryResult<Vec<(i32, NaiveTime, NaiveTime)>> {
    opening_hours::table
        .filter(opening_hours::organisation_id.eq(organisation.to_string()))
        .order(opening_hours::weekday.asc())
        .select((
            opening_hours::weekday,
            opening_hours::opens,
            opening_hours::closes,
        ))
        .load(conn)
}

pub fn replace_hours(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    hours: &[(i32, NaiveTime, NaiveTime)],
) -> QueryResult<()> {
    diesel::delete(
        opening_hours::table.filter(opening_hours::organisation_id.eq(organisation.to_string())),
    )
    .execute(conn)?;
    for (weekday, opens, closes) in hours {
        diesel::insert_into(opening_hours::table)
            .values((
                opening_hours::organisation_id.eq(organisation.to_string()),
                opening_hours::weekday.eq(weekday),
                opening_hours::opens.eq(opens),
                opening_hours::closes.eq(closes),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The organisation's business calendar: its hours (or the default), its
/// timezone, Japanese holidays and its closures.
pub fn calendar(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> AppResult<BusinessCalendar> {
    let tz = organisations::queries::timezone(conn, organisation)?;
    let stored = stored_hours(conn, organisation)?;
    let hours = if stored.is_empty() {
        BusinessCalendar::default_hours()
    } else {
        let mut hours = [None; 7];
        for (weekday, opens, closes) in stored {
            if let Some(slot) = hours.get_mut(weekday as usize) {
                *slot = Some((opens, closes));
            }
        }
        hours
    };
    let closures = schedule::all_closures(conn, organisation)?
        .into_iter()
        .map(|c| (c.starts_local, c.ends_local))
        .collect();
    Ok(BusinessCalendar::new(tz, hours, closures))
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
    let (first_target, resolve_target) = sla::targets(&row.priority);
    let created = row.created_at.and_utc();
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
    let cal = calendar(conn, organisation)?;
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
                &cal,
                now,
            );
            let mut ticket = Ticket::from(row);
            ticket.sla = Some(sla);
            ticket
        })
        .collect())
}
