//! Outbox and call-list rows, their kinds and states, and the answers.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{call_list_items, outbox_messages};
use crate::db::{BookingId, OrganisationId, ResidentId, TicketId, VenueId};

crate::db::text_enum::text_enum! {
    /// What a message is about.
    pub enum Kind {
        BookingConfirmed = "booking_confirmed",
        BookingWaitlisted = "booking_waitlisted",
        BookingPromoted = "booking_promoted",
        BookingCancelled = "booking_cancelled",
        SessionCancelled = "session_cancelled",
        SessionMoved = "session_moved",
        EnrolmentConfirmed = "enrolment_confirmed",
        ApplicationReceived = "application_received",
        LotteryWon = "lottery_won",
        LotteryWaitlisted = "lottery_waitlisted",
        LotteryNotDrawn = "lottery_not_drawn",
        SeatOffered = "seat_offered",
        OfferExpired = "offer_expired",
        Reminder = "reminder",
        TicketAcknowledged = "ticket_acknowledged",
        TicketReply = "ticket_reply",
    }
}

crate::db::text_enum::text_enum! {
    /// Where a mail stands.
    pub enum MailStatus {
        Pending = "pending",
        Sent = "sent",
        Failed = "failed",
    }
}

crate::db::text_enum::text_enum! {
    /// Where a call stands.
    pub enum CallStatus {
        Open = "open",
        Done = "done",
        GivenUp = "given_up",
    }
}

crate::db::text_enum::text_enum! {
    /// How a call went.
    pub enum Outcome {
        Reached = "reached",
        NoAnswer = "no_answer",
        Voicemail = "voicemail",
        WrongNumber = "wrong_number",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_messages)]
pub struct OutboxRow {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub kind: Kind,
    pub resident_id: Option<ResidentId>,
    pub booking_id: Option<BookingId>,
    pub ticket_id: Option<TicketId>,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = call_list_items)]
pub struct CallRow {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub resident_id: ResidentId,
    pub venue_id: Option<VenueId>,
    pub reason: Kind,
    pub booking_id: Option<BookingId>,
    pub ticket_id: Option<TicketId>,
    pub script: String,
    pub status: CallStatus,
    pub tries: i32,
    pub due_on: NaiveDate,
    pub last_outcome: Option<String>,
    pub last_note: Option<String>,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

/// A message of the outbox, as staff see it (the body is not shown in
/// lists: it holds personal details; the recipient is).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxMessage {
    pub id: String,
    pub kind: Kind,
    pub status: MailStatus,
    pub resident_id: Option<ResidentId>,
    pub booking_id: Option<BookingId>,
    pub ticket_id: Option<TicketId>,
    pub recipient: String,
    pub subject: String,
    /// The `Message-ID` header, the same on every try.
    pub message_id: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// The mail server's last refusal or the connection error.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<OutboxRow> for OutboxMessage {
    fn from(r: OutboxRow) -> Self {
        OutboxMessage {
            id: r.id,
            kind: r.kind,
            status: r.status,
            resident_id: r.resident_id,
            booking_id: r.booking_id,
            ticket_id: r.ticket_id,
            recipient: r.recipient,
            subject: r.subject,
            message_id: r.message_id,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at.and_utc(),
            last_error: r.last_error,
            created_at: r.created_at.and_utc(),
            sent_at: r.sent_at.map(|t| t.and_utc()),
        }
    }
}

/// The outbox at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxStats {
    /// Messages waiting to be sent.
    pub pending: i64,
    /// Age in seconds of the oldest waiting message (0 when none).
    pub oldest_pending_secs: i64,
    pub failed: i64,
    pub sent: i64,
}

impl OutboxStats {
    /// Figures from `queries::counts`.
    pub fn from_counts(counts: &[(MailStatus, i64, Option<NaiveDateTime>)]) -> OutboxStats {
        let mut stats = OutboxStats {
            pending: 0,
            oldest_pending_secs: 0,
            failed: 0,
            sent: 0,
        };
        for (status, count, oldest) in counts {
            match status {
                MailStatus::Pending => {
                    stats.pending = *count;
                    stats.oldest_pending_secs = oldest
                        .map(|t| (Utc::now().naive_utc() - t).num_seconds().max(0))
                        .unwrap_or(0);
                }
                MailStatus::Failed => stats.failed = *count,
                MailStatus::Sent => stats.sent = *count,
            }
        }
        stats
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallResident {
    pub id: ResidentId,
    pub name: String,
    pub kana: String,
    pub phone: Option<String>,
}

/// Someone to call, why, and what to say.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallItem {
    pub id: String,
    pub resident: CallResident,
    /// `booking_promoted`, `session_cancelled`, `session_moved`, `reminder`
    /// or `ticket_reply`.
    pub reason: Kind,
    pub booking_id: Option<BookingId>,
    pub ticket_id: Option<TicketId>,
    pub venue_id: Option<VenueId>,
    /// The text to read.
    pub script: String,
    /// `open`, `done` or `given_up`.
    pub status: CallStatus,
    /// Tries so far.
    pub tries: i32,
    /// The local day to call (a call not answered comes back the next
    /// working day).
    pub due_on: NaiveDate,
    pub last_outcome: Option<String>,
    pub last_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutcome {
    /// `reached`, `no_answer`, `voicemail` or `wrong_number`.
    pub outcome: Outcome,
    pub note: Option<String>,
}
