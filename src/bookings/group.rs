//! Group commit: bookings that arrive together share one transaction and
//! one commit.
//!
//! Every booking takes its session's row lock, so bookings of one popular
//! session queue on it and each held it through its own commit; and every
//! booking paid for its own BEGIN, inserts and COMMIT. Here a booking first
//! does its reads and checks on its own connection (`service::prepare`, no
//! lock), then joins its organisation's queue in this process. The first
//! to arrive leads: it takes everything queued (up to `MAX_GROUP`), orders
//! it by session (arrival order within a session, and one lock order for
//! every group), runs their `service::commit`s in one write transaction
//! (each takes its seat; the rows of plain bookings and their audit entries
//! are inserted together at the end: `service::Later`), and answers each
//! only after the commit. Bookings that arrive meanwhile form the next
//! group. If any booking of a group fails (a refusal such as
//! `no_loaner_available`, or a database error such as a duplicate or a
//! deadlock with another instance), the whole group rolls back and each of
//! its bookings runs alone in its own transaction, so only the bad one
//! fails, with the answer it would have had alone.
//!
//! One process groups its own requests; other instances' bookings still
//! queue on the session rows' locks as before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

use super::service::{self, Booked, Later, Prepared};
use crate::auth::Caller;
use crate::db::{DbConnection, OrganisationId, write_tx};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// At most this many bookings share a transaction.
pub const MAX_GROUP: usize = 64;

struct Waiting {
    caller: Caller,
    prepared: Prepared,
    reply: oneshot::Sender<AppResult<Booked>>,
}

/// The queues of the organisations booking now; one has an entry while a
/// leader runs its groups.
pub struct Groups {
    window: Duration,
    queues: Mutex<HashMap<OrganisationId, Vec<Waiting>>>,
}

impl Groups {
    pub fn new(window: Duration) -> Self {
        Groups {
            window,
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// Books what `prepare` made ready, in a group with the organisation's
    /// other bookings arriving now; answers after the commit that holds it.
    pub async fn book(
        state: &AppState,
        caller: Caller,
        prepared: Prepared,
        turnaround_minutes: i64,
    ) -> AppResult<Booked> {
        let groups = state.booking_groups.clone();
        let organisation = caller.organisation_id;
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting {
            caller,
            prepared,
            reply,
        };
        let lead = {
            let mut queues = groups.queues.lock().unwrap_or_else(|e| e.into_inner());
            match queues.get_mut(&organisation) {
                Some(queue) => {
                    queue.push(waiting);
                    false
                }
                None => {
                    queues.insert(organisation, vec![waiting]);
                    true
                }
            }
        };
        if lead {
            let state = state.clone();
            actix_web::rt::spawn(async move {
                groups.lead(&state, organisation, turnaround_minutes).await;
            });
        }
        answer.await.map_err(|_| {
            AppError::Internal(anyhow::anyhow!("a booking group ended without an answer"))
        })?
    }

    /// Runs the organisation's groups until its queue is empty.
    async fn lead(&self, state: &AppState, organisation: OrganisationId, turnaround_minutes: i64) {
        if !self.window.is_zero() {
            tokio::time::sleep(self.window).await;
        }
        loop {
            let mut group: Vec<Waiting> = {
                let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                let Some(queue) = queues.get_mut(&organisation) else {
                    return;
                };
                if queue.is_empty() {
                    queues.remove(&organisation);
                    return;
                }
                let n = queue.len().min(MAX_GROUP);
                queue.drain(..n).collect()
            };
            // Session by session (stable: arrival order within one), so
            // every group locks session rows in the same order.
            group.sort_by_key(|w| w.prepared.session_id().0);
            let (work, replies): (Vec<_>, Vec<_>) = group
                .into_iter()
                .map(|w| ((w.caller, w.prepared), w.reply))
                .unzip();
            match state
                .db(move |conn| Ok(run(conn, &work, turnaround_minutes)))
                .await
            {
                Ok(answers) => {
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        // A client that went away no longer listens.
                        let _ = reply.send(answer);
                    }
                }
                Err(e) => {
                    // No connection, or the database did not answer in
                    // time: every booking of the group gets that answer.
                    let mut first = Some(e);
                    for reply in replies {
                        let e = first.take().unwrap_or(AppError::DatabaseTimeout);
                        let _ = reply.send(Err(e));
                    }
                }
            }
        }
    }
}

/// One group's transaction: all together, or (when one of them fails)
/// each alone. Returns an answer per booking, in order.
///
/// Together, the reference codes `prepare` drew are not checked first: the
/// unique index refuses a taken one (about one booking in ten thousand for
/// an organisation with 100,000 bookings), and the group runs alone. Alone,
/// each booking first takes a checked code, as `service::book` does.
pub fn run(
    conn: &mut DbConnection,
    group: &[(Caller, Prepared)],
    turnaround_minutes: i64,
) -> Vec<AppResult<Booked>> {
    let together: AppResult<Vec<Booked>> = write_tx(conn, |conn| {
        let mut later = Later::default();
        let all = group
            .iter()
            .map(|(caller, prepared)| {
                service::commit(conn, caller, prepared, turnaround_minutes, Some(&mut later))
            })
            .collect::<AppResult<Vec<Booked>>>()?;
        later.write(conn)?;
        Ok(all)
    });
    if let Ok(all) = together {
        return all.into_iter().map(Ok).collect();
    }
    group
        .iter()
        .map(|(caller, prepared)| {
            write_tx(conn, |conn| {
                let mut prepared = prepared.clone();
                prepared.take_free_reference(conn)?;
                service::commit(conn, caller, &prepared, turnaround_minutes, None)
            })
        })
        .collect()
}
