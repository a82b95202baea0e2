//! The delivery job: sends due messages of the outbox in the order they
//! were written, and marks them sent.
//!
//! Once at a time: the job runs under its lease (`jobs::run_once`), so
//! several instances on one database never send a message twice in normal
//! operation. A crash between sending and marking may send it again on the
//! next run: every message carries a `Message-ID` fixed when it was written,
//! so a resend is the same message to mail clients and servers.
//!
//! Failures: a server that cannot be reached ends the run and costs no try
//! (the mail server down for an hour loses nothing: everything goes on the
//! first run after it returns); a temporary refusal (4xx) waits 1 min,
//! 5 min, 30 min, 2 h, then 12 h; a permanent one (5xx), a bad address, or
//! the last try marks the message `failed`, kept with its last error for
//! staff to retry. A message waiting for its next try holds back the later
//! messages of the same recipient, so each resident reads them in order.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;

use super::queries;
use super::transport::{Mailer, SendError};
use super::types::{MailStatus, OutboxRow};
use crate::config::MailSettings;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::jobs::Job;

pub const LEASE: &str = "deliver_mail";

/// Waits after the 1st, 2nd … failed try.
const BACKOFF_MINUTES: [i64; 5] = [1, 5, 30, 120, 720];

/// How many messages one run looks at.
const BATCH: i64 = 200;

/// The job as the jobs loop runs it (its work blocks on `runtime` to send).
pub fn job(mailer: Arc<Mailer>, runtime: tokio::runtime::Handle, settings: MailSettings) -> Job {
    Job {
        name: LEASE,
        every: Duration::from_secs(settings.delivery_interval_secs),
        run: Box::new(move |conn| deliver(conn, &mailer, &runtime, &settings)),
    }
}

fn letter(row: &OutboxRow, from: &Mailbox) -> Result<Message, String> {
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|_| "the recipient is not a valid address".to_owned())?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()))
        .header(ContentType::TEXT_PLAIN)
        .body(row.body.clone())
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// Sends what is due; the number sent. Call from a blocking thread (it
/// waits on `runtime` for each send) and under the job's lease.
pub fn deliver(
    conn: &mut DbConnection,
    mailer: &Mailer,
    runtime: &tokio::runtime::Handle,
    settings: &MailSettings,
) -> Result<usize, AppError> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("mail.from: {e}")))?;
    let now = Utc::now().naive_utc();
    let mut held: HashSet<String> = HashSet::new();
    let mut sent = 0;
    let waiting = queries::pending(conn, BATCH)?;
    for (i, row) in waiting.iter().enumerate() {
        let recipient = row.recipient.to_lowercase();
        if held.contains(&recipient) {
            continue;
        }
        if row.next_attempt_at > now {
            held.insert(recipient);
            continue;
        }
        let message = match letter(row, &from) {
            Ok(m) => m,
            Err(reason) => {
                queries::mark_attempt(
                    conn,
                    &row.id,
                    row.attempts + 1,
                    MailStatus::Failed,
                    now,
                    &reason,
                )?;
                tracing::warn!(message = %row.id, kind = %row.kind, "mail failed: {reason}");
                continue;
            }
        };
        match runtime.block_on(mailer.send(message)) {
            Ok(()) => {
                queries::mark_sent(conn, &row.id)?;
                sent += 1;
            }
            Err(SendError::Unreachable(reason)) => {
                // Nothing is wrong with the messages: keep them all for the
                // next run, without using up a try.
                let rest: Vec<String> = waiting[i..].iter().map(|r| r.id.clone()).collect();
                queries::note_unreachable(conn, &rest, &reason)?;
                tracing::warn!(waiting = rest.len(), "mail server unreachable: {reason}");
                break;
            }
            Err(SendError::Refused { permanent, reason }) => {
                let attempts = row.attempts + 1;
                let give_up = permanent || attempts >= settings.max_attempts;
                let wait = BACKOFF_MINUTES[(attempts as usize - 1).min(BACKOFF_MINUTES.len() - 1)];
                queries::mark_attempt(
                    conn,
                    &row.id,
                    attempts,
                    if give_up {
                        MailStatus::Failed
                    } else {
                        MailStatus::Pending
                    },
                    now + chrono::Duration::minutes(wait),
                    &reason,
                )?;
                held.insert(recipient);
                tracing::warn!(message = %row.id, kind = %row.kind, attempts, give_up, "mail refused");
            }
        }
    }
    // The outbox at a glance in the logs (counts only, nothing personal).
    let stats = super::types::OutboxStats::from_counts(&queries::counts(conn, None)?);
    if stats.pending > 0 || stats.failed > 0 || sent > 0 {
        tracing::info!(
            sent,
            outbox_pending = stats.pending,
            oldest_pending_secs = stats.oldest_pending_secs,
            outbox_failed = stats.failed,
            "mail delivery"
        );
    }
    Ok(sent)
}
