//! Ticket rules: taking a question (with a queue number, or resolved on the
//! spot), moving it through its states, assigning it, notes and replies.

use chrono::Utc;

use super::queries::{self, TicketChanges};
use super::types::{NewTicket, Priority, TicketChannel, TicketRow, TicketStatus, one_of};
use crate::auth::Caller;
use crate::db::{AccountId, DbConnection, ResidentId, TicketId, VenueId};
use crate::error::{AppError, AppResult};
use crate::messages::compose::TicketNote;
use crate::messages::types::Kind;
use crate::residents::names;
use crate::validate::{Checker, optional_text, required_text};

/// Takes a question. Call inside a write transaction.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    tz: &chrono_tz::Tz,
    req: &NewTicket,
    max_age_hours: i64,
) -> AppResult<TicketRow> {
    let mut v = Checker::new();
    let now = Utc::now();
    let received = match req.received_at {
        None => now,
        Some(at) if at > now + chrono::Duration::minutes(1) => {
            v.fail("received_at", "must not be in the future");
            now
        }
        Some(at) if at < now - chrono::Duration::hours(max_age_hours) => {
            v.fail(
                "received_at",
                format!("must be at most {max_age_hours} hours ago"),
            );
            now
        }
        Some(at) => at.min(now),
    };
    let channel = TicketChannel::parse(&req.channel);
    if channel.is_none() {
        let all = one_of(TicketChannel::ALL.iter().map(|c| c.as_str()));
        v.fail("channel", format!("must be one of {all}"));
    }
    let priority = match req.priority.as_deref() {
        None => Some(Priority::Normal),
        Some(p) => Priority::parse(p),
    };
    if priority.is_none() {
        let all = one_of(Priority::ALL.iter().map(|p| p.as_str()));
        v.fail("priority", format!("must be one of {all}"));
    }
    let subject = v.check("subject", required_text(&req.subject, 200));
    let description = v.check(
        "description",
        optional_text(req.description.as_deref(), 8000),
    );
    let device = v.check("device", optional_text(req.device.as_deref(), 100));
    let os = v.check("os", optional_text(req.os.as_deref(), 100));
    let contact_name = v.check(
        "contact_name",
        optional_text(req.contact_name.as_deref(), 100),
    );
    let contact_phone = req
        .contact_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| v.check("contact_phone", names::normalise_phone(p)));
    let contact_email = req
        .contact_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            v.check(
                "contact_email",
                crate::validate::Email::parse(e).map(|e| e.as_str().to_owned()),
            )
        });
    let answer = v.check(
        "resolved_with",
        optional_text(req.resolved_with.as_deref(), 8000),
    );
    if channel == Some(TicketChannel::Email) && req.resident_id.is_none() && contact_email.is_none()
    {
        v.fail(
            "contact_email",
            "an email question needs the requester's address",
        );
    }
    if channel == Some(TicketChannel::FaceToFace) && req.venue_id.is_none() {
        v.fail("venue_id", "a face-to-face question is taken at a venue");
    }
    v.finish()?;
    let codes = queries::category_codes(conn, caller.organisation_id)?;
    if !codes.iter().any(|(code, _, _)| *code == req.category) {
        return Err(AppError::invalid_field(
            "category",
            "unknown category (see GET /api/v1/ticket-categories)",
        ));
    }
    let resident = match req.resident_id {
        Some(id) => Some(
            crate::residents::queries::find(conn, caller.organisation_id, ResidentId(id))?
                .ok_or_else(|| AppError::invalid_field("resident_id", "no such resident"))?,
        ),
        None => None,
    };
    let (queue_date, queue_number) = match req.venue_id {
        Some(venue) => {
            crate::venues::queries::find(conn, caller.organisation_id, VenueId(venue))?
                .ok_or_else(|| AppError::invalid_field("venue_id", "no such venue"))?;
            if channel == Some(TicketChannel::FaceToFace) && answer.is_none() {
                // The number belongs to the day the person arrived.
                let day = received.with_timezone(tz).date_naive();
                (
                    Some(day),
                    Some(queries::next_queue_number(conn, VenueId(venue), day)?),
                )
            } else {
                (None, None)
            }
        }
        None => (None, None),
    };
    let resolved = answer.is_some();
    let row = TicketRow {
        id: TicketId::generate(),
        organisation_id: caller.organisation_id,
        channel: channel.unwrap_or(TicketChannel::Phone),
        status: if resolved {
            TicketStatus::Resolved
        } else {
            TicketStatus::New
        },
        priority: priority.unwrap_or(Priority::Normal),
        category: req.category.clone(),
        subject,
        description,
        device,
        os,
        resident_id: resident.as_ref().map(|r| r.id),
        booking_id: None,
        contact_name: contact_name.or_else(|| resident.as_ref().map(|r| r.display_name())),
        contact_phone: contact_phone.or_else(|| resident.as_ref().and_then(|r| r.phone.clone())),
        contact_email: contact_email.or_else(|| resident.as_ref().and_then(|r| r.email.clone())),
        venue_id: req.venue_id.map(VenueId),
        queue_date,
        queue_number,
        called_at: None,
        assignee_id: if resolved {
            Some(caller.account_id)
        } else {
            None
        },
        taken_by: caller.account_id,
        // Resolved on the spot: when they were there.
        first_response_at: resolved.then(|| received.naive_utc()),
        resolved_at: resolved.then(|| received.naive_utc()),
        closed_at: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        merged_into: None,
        received_at: received.naive_utc(),
    };
    queries::insert(conn, &row)?;
    queries::record_event(
        conn,
        row.id,
        "created",
        None,
        Some(TicketStatus::New.as_str()),
        None,
        Some(caller.account_id),
    )?;
    if let Some(answer) = &answer {
        queries::record_event(
            conn,
            row.id,
            "reply",
            None,
            None,
            Some(answer),
            Some(caller.account_id),
        )?;
        queries::record_event(
            conn,
            row.id,
            "status",
            Some(TicketStatus::New.as_str()),
            Some(TicketStatus::Resolved.as_str()),
            Some("resolved on the spot"),
            Some(caller.account_id),
        )?;
    }
    if matches!(row.channel, TicketChannel::Email | TicketChannel::Web) {
        tell(conn, &row, Kind::TicketAcknowledged, None)?;
    }
    if let Some(answer) = &answer {
        tell(conn, &row, Kind::TicketReply, Some(answer))?;
    }
    crate::audit::record(
        conn,
        caller,
        "ticket.create",
        "ticket",
        row.id,
        format!("{} via {} ({})", row.category, row.channel, row.status),
    )?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, caller: &Caller, id: TicketId) -> AppResult<TicketRow> {
    let row = queries::find(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("ticket"))?;
    // Volunteers work their own queue and the unassigned one.
    if crate::auth::access::works_own_queue(caller)
        && row.assignee_id.is_some_and(|a| a != caller.account_id)
    {
        return Err(AppError::not_found("ticket"));
    }
    Ok(row)
}

/// Moves a ticket along its allowed transitions; anything else is 409.
pub fn transition(
    conn: &mut DbConnection,
    caller: &Caller,
    id: TicketId,
    to: TicketStatus,
    note: Option<&str>,
) -> AppResult<TicketRow> {
    let row = find(conn, caller, id)?;
    let from = row.status();
    if !from.can_become(to) {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("a {} ticket cannot become {}", from.as_str(), to.as_str()),
        ));
    }
    if to == TicketStatus::Assigned && row.assignee_id.is_none() {
        return Err(AppError::conflict(
            "invalid_transition",
            "assign it to someone: POST /tickets/{id}/assign",
        ));
    }
    let now = Utc::now().naive_utc();
    let mut changes = TicketChanges {
        status: Some(to),
        ..Default::default()
    };
    match to {
        TicketStatus::InProgress if row.first_response_at.is_none() => {
            changes.first_response_at = Some(Some(now))
        }
        TicketStatus::Resolved => changes.resolved_at = Some(Some(now)),
        TicketStatus::Closed => changes.closed_at = Some(Some(now)),
        _ => {}
    }
    if to == TicketStatus::InProgress && from == TicketStatus::Resolved {
        changes.resolved_at = Some(None);
    }
    if !queries::update_from(conn, id, from, changes)? {
        return Err(AppError::conflict(
            "invalid_transition",
            "the ticket changed meanwhile: reload it",
        ));
    }
    queries::record_event(
        conn,
        id,
        "status",
        Some(from.as_str()),
        Some(to.as_str()),
        note,
        Some(caller.account_id),
    )?;
    crate::audit::record(
        conn,
        caller,
        "ticket.transition",
        "ticket",
        id,
        format!("{} → {}", from.as_str(), to.as_str()),
    )?;
    queries::find(conn, caller.organisation_id, id)?.ok_or_else(|| AppError::not_found("ticket"))
}

/// Assigns (or reassigns) a ticket to a volunteer or coordinator; a new or
/// triaged ticket becomes `assigned`.
pub fn assign(
    conn: &mut DbConnection,
    caller: &Caller,
    id: TicketId,
    assignee: AccountId,
    note: Option<&str>,
) -> AppResult<TicketRow> {
    let row = find(conn, caller, id)?;
    if crate::auth::access::works_own_queue(caller) && assignee != caller.account_id {
        return Err(AppError::forbidden(
            "forbidden",
            "a volunteer may only take a ticket for themselves",
        ));
    }
    let person = crate::staff::queries::find(conn, caller.organisation_id, assignee)?
        .filter(|a| a.active && matches!(a.role.as_str(), "volunteer" | "coordinator" | "admin"))
        .ok_or_else(|| {
            AppError::invalid_field(
                "assignee_id",
                "not an active volunteer or coordinator of this organisation",
            )
        })?;
    let from = row.status();
    if !from.is_open() {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("a {} ticket cannot be assigned", from.as_str()),
        ));
    }
    let to = if matches!(from, TicketStatus::New | TicketStatus::Triaged) {
        TicketStatus::Assigned
    } else {
        from
    };
    let changes = TicketChanges {
        status: Some(to),
        assignee_id: Some(Some(person.id)),
        ..Default::default()
    };
    if !queries::update_from(conn, id, from, changes)? {
        return Err(AppError::conflict(
            "invalid_transition",
            "the ticket changed meanwhile: reload it",
        ));
    }
    let body = format!(
        "assigned to {}{}",
        person.name,
        note.map(|n| format!(": {n}")).unwrap_or_default()
    );
    queries::record_event(
        conn,
        id,
        "assigned",
        Some(from.as_str()),
        Some(to.as_str()),
        Some(&body),
        Some(caller.account_id),
    )?;
    crate::audit::record(
        conn,
        caller,
        "ticket.assign",
        "ticket",
        id,
        format!("assigned to {}", person.email),
    )?;
    queries::find(conn, caller.organisation_id, id)?.ok_or_else(|| AppError::not_found("ticket"))
}

/// Adds an internal note or a reply; a reply to an email requester is queued
/// for the mail outbox, and the first reply counts as the first response.
pub fn note(
    conn: &mut DbConnection,
    caller: &Caller,
    id: TicketId,
    body: &str,
    reply: bool,
) -> AppResult<TicketRow> {
    let row = find(conn, caller, id)?;
    let body = required_text(body, 8000).map_err(|m| AppError::invalid_field("body", m))?;
    queries::record_event(
        conn,
        id,
        if reply { "reply" } else { "note" },
        None,
        None,
        Some(&body),
        Some(caller.account_id),
    )?;
    if reply {
        if row.channel == TicketChannel::Email
            && let Some(to) = &row.contact_email
        {
            queries::queue_message(conn, id, to, &body)?;
        }
        tell(conn, &row, Kind::TicketReply, Some(&body))?;
        if row.first_response_at.is_none() {
            queries::update_from(
                conn,
                id,
                row.status,
                TicketChanges {
                    first_response_at: Some(Some(Utc::now().naive_utc())),
                    ..Default::default()
                },
            )?;
        }
    }
    crate::audit::record(
        conn,
        caller,
        if reply { "ticket.reply" } else { "ticket.note" },
        "ticket",
        id,
        "added to the timeline",
    )?;
    queries::find(conn, caller.organisation_id, id)?.ok_or_else(|| AppError::not_found("ticket"))
}

/// Merges a duplicate into another ticket: the duplicate's timeline moves to
/// the survivor, the duplicate is closed pointing to it, and nothing is sent
/// to the requester.
pub fn merge(
    conn: &mut DbConnection,
    caller: &Caller,
    id: TicketId,
    into: TicketId,
) -> AppResult<TicketRow> {
    use crate::db::schema::{ticket_events, tickets};
    use diesel::prelude::*;
    // Merging is the office's (admins and coordinators).
    caller.require(crate::auth::WRITERS)?;
    let duplicate = find(conn, caller, id)?;
    let survivor = find(conn, caller, into)?;
    if duplicate.id == survivor.id
        || duplicate.merged_into.is_some()
        || survivor.merged_into.is_some()
    {
        return Err(AppError::conflict(
            "invalid_merge",
            "merge two different tickets that are not merged already",
        ));
    }
    if matches!(duplicate.status(), TicketStatus::Closed) {
        return Err(AppError::conflict(
            "invalid_merge",
            "the duplicate is already closed",
        ));
    }
    diesel::update(ticket_events::table.filter(ticket_events::ticket_id.eq(duplicate.id)))
        .set(ticket_events::ticket_id.eq(survivor.id))
        .execute(conn)?;
    let now = Utc::now().naive_utc();
    diesel::update(tickets::table.filter(tickets::id.eq(duplicate.id)))
        .set((
            tickets::status.eq(TicketStatus::Closed),
            tickets::closed_at.eq(now),
            tickets::merged_into.eq(survivor.id),
            tickets::updated_at.eq(now),
        ))
        .execute(conn)?;
    let note = format!("merged duplicate {} ({})", duplicate.id, duplicate.subject);
    queries::record_event(
        conn,
        survivor.id,
        "note",
        None,
        None,
        Some(&note),
        Some(caller.account_id),
    )?;
    queries::record_event(
        conn,
        duplicate.id,
        "status",
        Some(duplicate.status.as_str()),
        Some(TicketStatus::Closed.as_str()),
        Some(&format!("merged into {}", survivor.id)),
        Some(caller.account_id),
    )?;
    crate::audit::record(
        conn,
        caller,
        "ticket.merge",
        "ticket",
        duplicate.id,
        format!("merged into {}", survivor.id),
    )?;
    queries::find(conn, caller.organisation_id, survivor.id)?
        .ok_or_else(|| AppError::not_found("ticket"))
}

/// Links a ticket to a resident and/or a booking of the organisation.
pub fn link(
    conn: &mut DbConnection,
    caller: &Caller,
    id: TicketId,
    resident: Option<uuid::Uuid>,
    booking: Option<uuid::Uuid>,
) -> AppResult<TicketRow> {
    use crate::db::schema::tickets;
    use diesel::prelude::*;
    let row = find(conn, caller, id)?;
    if let Some(r) = resident {
        crate::residents::queries::find(conn, caller.organisation_id, ResidentId(r))?
            .ok_or_else(|| AppError::invalid_field("resident_id", "no such resident"))?;
        diesel::update(tickets::table.filter(tickets::id.eq(row.id)))
            .set(tickets::resident_id.eq(ResidentId(r)))
            .execute(conn)?;
    }
    if let Some(b) = booking {
        crate::bookings::queries::find(conn, caller.organisation_id, crate::db::BookingId(b))?
            .ok_or_else(|| AppError::invalid_field("booking_id", "no such booking"))?;
        diesel::update(tickets::table.filter(tickets::id.eq(row.id)))
            .set(tickets::booking_id.eq(crate::db::BookingId(b)))
            .execute(conn)?;
    }
    queries::record_event(
        conn,
        id,
        "note",
        None,
        None,
        Some("linked to a resident or booking"),
        Some(caller.account_id),
    )?;
    crate::audit::record(conn, caller, "ticket.link", "ticket", id, "linked")?;
    queries::find(conn, caller.organisation_id, id)?.ok_or_else(|| AppError::not_found("ticket"))
}

/// A page of the tickets the caller may see (own queue and unassigned for
/// volunteers and instructors), with service levels; `by_sla` keeps only
/// `overdue` or `at_risk` ones.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    filter: &super::types::TicketFilter,
    by_sla: Option<&str>,
    limit: i64,
) -> AppResult<Vec<super::types::Ticket>> {
    let scoped = crate::auth::access::works_own_queue(caller);
    let mut filter = filter.clone();
    let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
    crate::calendar::instant::resolve(&mut filter.from, &mut filter.to, tz);
    // Service levels are computed, not stored: filtering by them reads the
    // organisation's matching tickets (bounded) first.
    let fetch = if by_sla.is_some() { 5000 } else { limit };
    let rows = queries::list(
        conn,
        caller.organisation_id,
        &filter,
        caller.account_id,
        scoped,
        fetch,
    )?;
    let mut tickets = super::sla::annotate(conn, caller.organisation_id, rows)?;
    match by_sla {
        Some("overdue") => tickets.retain(|t| t.sla.as_ref().is_some_and(|s| s.overdue)),
        Some(_) => tickets.retain(|t| t.sla.as_ref().is_some_and(|s| s.at_risk)),
        None => {}
    }
    Ok(tickets)
}

/// Tells the requester: written questions are answered by mail where they
/// came from; a resident otherwise by their preference (see
/// `messages::compose::ticket`).
fn tell(
    conn: &mut DbConnection,
    row: &TicketRow,
    kind: Kind,
    reply: Option<&str>,
) -> AppResult<()> {
    crate::messages::compose::ticket(
        conn,
        &TicketNote {
            kind,
            organisation: row.organisation_id,
            ticket: row.id,
            written: matches!(row.channel, TicketChannel::Email | TicketChannel::Web),
            contact_email: row.contact_email.as_deref(),
            contact_name: row.contact_name.as_deref(),
            resident: row.resident_id,
            venue: row.venue_id,
            subject: &row.subject,
            reply,
        },
    )
}

/// Calls a waiting walk-in to the desk (the waiting-room board shows it).
pub fn call(conn: &mut DbConnection, caller: &Caller, id: TicketId) -> AppResult<TicketRow> {
    let row = find(conn, caller, id)?;
    if row.queue_number.is_none() || !row.status().is_open() {
        return Err(AppError::conflict(
            "invalid_state",
            "only a waiting walk-in can be called",
        ));
    }
    queries::update_from(
        conn,
        id,
        row.status,
        TicketChanges {
            called_at: Some(Some(Utc::now().naive_utc())),
            ..Default::default()
        },
    )?;
    queries::record_event(
        conn,
        id,
        "note",
        None,
        None,
        Some("called to the desk"),
        Some(caller.account_id),
    )?;
    find(conn, caller, id)
}

/// Calls the lowest number still waiting at a venue today; `None` when
/// nobody waits.
pub fn call_next(
    conn: &mut DbConnection,
    caller: &Caller,
    venue: VenueId,
) -> AppResult<Option<TicketRow>> {
    crate::venues::queries::find(conn, caller.organisation_id, venue)?
        .ok_or_else(|| AppError::not_found("venue"))?;
    let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
    let today = crate::calendar::today(tz);
    let next = queries::queue_of(conn, caller.organisation_id, venue, today)?
        .into_iter()
        .filter(|t| {
            t.called_at.is_none()
                && t.status().is_open()
                && t.status() != TicketStatus::WaitingOnResident
                && t.status() != TicketStatus::InProgress
        })
        .min_by_key(|t| t.queue_number);
    match next {
        Some(t) => call(conn, caller, t.id).map(Some),
        None => Ok(None),
    }
}
