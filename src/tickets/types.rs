//! Tickets: their state machine, rows, requests and answers.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::tickets;
use crate::db::{AccountId, BookingId, OrganisationId, ResidentId, TicketId, VenueId};

crate::db::text_enum::text_enum! {
    /// Where a consultation stands.
    pub enum TicketStatus {
        New = "new",
        Triaged = "triaged",
        Assigned = "assigned",
        InProgress = "in_progress",
        WaitingOnResident = "waiting_on_resident",
        Resolved = "resolved",
        Closed = "closed",
        Cancelled = "cancelled",
    }
}

impl TicketStatus {
    /// The one table of allowed moves: new → triaged → assigned →
    /// in_progress ⇄ waiting_on_resident → resolved → closed; resolved can be
    /// reopened; new or triaged can be cancelled (duplicate, spam).
    pub fn can_become(self, next: TicketStatus) -> bool {
        use TicketStatus::*;
        matches!(
            (self, next),
            (New, Triaged)
                | (New, Cancelled)
                | (Triaged, Assigned)
                | (Triaged, Cancelled)
                | (Assigned, InProgress)
                | (InProgress, WaitingOnResident)
                | (WaitingOnResident, InProgress)
                | (InProgress, Resolved)
                | (WaitingOnResident, Resolved)
                | (Resolved, InProgress)
                | (Resolved, Closed)
        )
    }

    /// Still waiting for the centre to act.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            TicketStatus::Resolved | TicketStatus::Closed | TicketStatus::Cancelled
        )
    }
}

crate::db::text_enum::text_enum! {
    /// How a question reached the desk.
    pub enum TicketChannel {
        FaceToFace = "face_to_face",
        Phone = "phone",
        Email = "email",
        Fax = "fax",
        Web = "web",
    }
}

crate::db::text_enum::text_enum! {
    /// How urgent a question is; it sets the service-level targets.
    pub enum Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

/// The texts of a text enum's variants, for messages ("must be one of …").
pub fn one_of(texts: impl Iterator<Item = &'static str>) -> String {
    texts.collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets)]
pub struct TicketRow {
    pub id: TicketId,
    pub organisation_id: OrganisationId,
    pub channel: TicketChannel,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category: String,
    pub subject: String,
    pub description: Option<String>,
    pub device: Option<String>,
    pub os: Option<String>,
    pub resident_id: Option<ResidentId>,
    pub booking_id: Option<BookingId>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub venue_id: Option<VenueId>,
    pub queue_date: Option<NaiveDate>,
    pub queue_number: Option<i32>,
    pub called_at: Option<NaiveDateTime>,
    pub assignee_id: Option<AccountId>,
    pub taken_by: AccountId,
    pub first_response_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub merged_into: Option<TicketId>,
    /// When the question reached the desk; service levels count from it.
    pub received_at: NaiveDateTime,
}

impl TicketRow {
    pub fn status(&self) -> TicketStatus {
        self.status
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Requester {
    pub resident_id: Option<ResidentId>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ticket {
    pub id: TicketId,
    pub channel: TicketChannel,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category: String,
    pub subject: String,
    pub description: Option<String>,
    pub device: Option<String>,
    pub os: Option<String>,
    pub requester: Requester,
    pub booking_id: Option<BookingId>,
    pub venue_id: Option<VenueId>,
    /// The walk-in number of the venue's day (1, 2, 3 …).
    pub queue_number: Option<i32>,
    pub queue_date: Option<NaiveDate>,
    pub called_at: Option<DateTime<Utc>>,
    pub assignee_id: Option<AccountId>,
    /// Who took the question.
    pub taken_by: AccountId,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When the question reached the desk (a call, a FAX, a visit); service
    /// levels and statistics count from it.
    pub received_at: DateTime<Utc>,
    /// When it was entered into madoguchi.
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set on a duplicate merged into another ticket.
    pub merged_into: Option<TicketId>,
    /// Due times in business hours, paused while waiting on the resident.
    pub sla: Option<Sla>,
}

impl From<TicketRow> for Ticket {
    fn from(r: TicketRow) -> Self {
        Ticket {
            id: r.id,
            channel: r.channel,
            status: r.status,
            priority: r.priority,
            category: r.category,
            subject: r.subject,
            description: r.description,
            device: r.device,
            os: r.os,
            requester: Requester {
                resident_id: r.resident_id,
                name: r.contact_name,
                phone: r.contact_phone,
                email: r.contact_email,
            },
            booking_id: r.booking_id,
            venue_id: r.venue_id,
            queue_number: r.queue_number,
            queue_date: r.queue_date,
            called_at: r.called_at.map(|t| t.and_utc()),
            assignee_id: r.assignee_id,
            taken_by: r.taken_by,
            first_response_at: r.first_response_at.map(|t| t.and_utc()),
            resolved_at: r.resolved_at.map(|t| t.and_utc()),
            closed_at: r.closed_at.map(|t| t.and_utc()),
            received_at: r.received_at.and_utc(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            merged_into: r.merged_into,
            sla: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// `created`, `status`, `assigned`, `note` (internal) or `reply` (to the requester).
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub body: Option<String>,
    pub actor_id: Option<AccountId>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Notes, replies and state changes, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// `face_to_face`, `phone`, `email`, `fax` or `web`.
    pub channel: String,
    /// A category code (see `GET /api/v1/ticket-categories`).
    pub category: String,
    pub subject: String,
    pub description: Option<String>,
    /// `low`, `normal` (default), `high` or `urgent`.
    pub priority: Option<String>,
    pub device: Option<String>,
    pub os: Option<String>,
    /// An existing resident …
    pub resident_id: Option<uuid::Uuid>,
    /// … or contact details only (a phone caller may stay anonymous).
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    /// Where a face-to-face question was asked: it gets the day's next queue number.
    pub venue_id: Option<uuid::Uuid>,
    /// Answered on the spot: the ticket is logged as resolved with this answer.
    pub resolved_with: Option<String>,
    /// When the question was received, if earlier than now (RFC 3339):
    /// a call an hour ago, a FAX overnight. Not in the future, at most
    /// `tickets.received_at_max_age_hours` ago. Walk-in queue numbers
    /// belong to the local day it gives.
    pub received_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub to: TicketStatus,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// A volunteer or coordinator of the organisation.
    pub assignee_id: uuid::Uuid,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub body: String,
    /// `internal` (staff only, the default) or `reply` (to the requester;
    /// an email requester gets it by mail).
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub priority: Option<String>,
    pub assignee_id: Option<uuid::Uuid>,
    /// `mine` (assigned to the caller) or `unassigned`.
    pub queue: Option<String>,
    pub venue_id: Option<uuid::Uuid>,
    /// Created at or after this instant. An RFC 3339 instant, or a local date
    /// (from the start of that day in the organisation's timezone).
    #[param(value_type = Option<String>)]
    pub from: Option<crate::calendar::Instant>,
    /// Created before this instant. A date includes that whole day.
    #[param(value_type = Option<String>)]
    pub to: Option<crate::calendar::Instant>,
    /// Words in the subject or description (Japanese substrings work).
    pub q: Option<String>,
    /// `overdue` or `at_risk` (open tickets against their service levels).
    pub sla: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<uuid::Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeTicket {
    /// The ticket that remains; this one is closed and points to it.
    pub into_id: uuid::Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkTicket {
    /// Link the requester to a registered resident.
    pub resident_id: Option<uuid::Uuid>,
    /// Link a follow-up appointment (a booking).
    pub booking_id: Option<uuid::Uuid>,
}

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

#[cfg(test)]
mod tests {
    use super::TicketStatus::{self, *};

    #[test]
    fn the_ticket_state_machine() {
        let allowed = [
            (New, Triaged),
            (New, Cancelled),
            (Triaged, Assigned),
            (Triaged, Cancelled),
            (Assigned, InProgress),
            (InProgress, WaitingOnResident),
            (WaitingOnResident, InProgress),
            (InProgress, Resolved),
            (WaitingOnResident, Resolved),
            (Resolved, InProgress),
            (Resolved, Closed),
        ];
        for &from in TicketStatus::ALL {
            for &to in TicketStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }

    #[test]
    fn statuses_round_trip() {
        for &s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
        }
    }
}
