//! Group commit: bookings that arrive together share their reads, one
//! transaction and one commit.
//!
//! Every booking takes its session's row lock, so bookings of one popular
//! session queued on it and each held it through its own commit; and every
//! booking paid for its own caller look-up, reads, BEGIN, inserts and
//! COMMIT. Here a booking request (its token verified) joins its
//! organisation's queue in this process. The first to arrive leads: it
//! takes everything queued (up to `MAX_GROUP`) and, on one connection,
//! checks each caller (once per auth session), reads all the sessions with
//! their courses and all the residents with their recent no-shows in one
//! statement each, and runs each booking's own checks
//! (`service::prepare_from`); a booking refused there is answered alone.
//! Then, in one write transaction, it locks the group's sessions in one
//! statement (id order, the same for every group), counts their seats and
//! waitlist places in memory (arrival order within a session) and writes
//! the counters in one statement (`take_places`), inserts the rows of the
//! plain bookings and their audit entries together (`service::Later`),
//! commits, and only then answers each. If any
//! booking fails inside the transaction (a refusal such as
//! `no_loaner_available`, or a database error such as a duplicate or a
//! deadlock with another instance), the transaction rolls back and each of
//! those bookings runs alone in its own, so only the bad one fails, with
//! the answer it would have had alone. Bookings that arrive meanwhile form
//! the next group; up to `LANES` groups of one organisation run at once,
//! each on its own connection (`bookings.group_lanes`). On two cores 2
//! lanes measured best once a group's places took two statements whatever
//! its size: a third lane made the groups smaller, so more statements per
//! booking (docs/benchmarks.md).
//!
//! One process groups its own requests; other instances' bookings still
//! queue on the session rows' locks as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::queries;
use super::service::{self, Booked, Later, NoShowRule, Prepared};
use super::types::NewBooking;
use crate::auth::{Bearer, Caller, WRITERS};
use crate::db::{DbConnection, OrganisationId, ResidentId, SessionId, write_tx};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// At most this many bookings share a transaction.
pub const MAX_GROUP: usize = 64;

/// At most this many groups of one organisation run at once (each on its
/// own connection): one group's round trips wait on the network and the
/// database, and a second group fills that time.
pub const LANES: usize = 2;

/// A booking as it arrived: who asks (token verified, account not yet
/// looked up), for which session, what.
pub struct Request {
    pub bearer: Bearer,
    pub session: SessionId,
    pub booking: NewBooking,
}

struct Waiting {
    request: Request,
    reply: oneshot::Sender<AppResult<Booked>>,
}

/// What every booking of a group is judged by.
#[derive(Clone, Copy)]
pub struct Rules {
    pub no_shows: NoShowRule,
    pub turnaround_minutes: i64,
}

/// The queues of the organisations booking now; one has an entry while a
/// leader runs its groups.
pub struct Groups {
    window: Duration,
    lanes: usize,
    queues: Mutex<HashMap<OrganisationId, Queue>>,
}

/// An organisation's bookings waiting for a group, and how many leaders
/// are running its groups.
#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    leaders: usize,
}

impl Groups {
    pub fn new(window: Duration, lanes: usize) -> Self {
        Groups {
            window,
            lanes: lanes.max(1),
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// Books in a group with the organisation's other bookings arriving
    /// now; answers after the commit that holds it (a booking its checks
    /// refused gets its refusal with the group's answers).
    pub async fn book(state: &AppState, request: Request, rules: Rules) -> AppResult<Booked> {
        let groups = state.booking_groups.clone();
        let organisation = request.bearer.organisation();
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting { request, reply };
        let lead = {
            let mut queues = groups.queues.lock().unwrap_or_else(|e| e.into_inner());
            let queue = queues.entry(organisation).or_default();
            queue.waiting.push(waiting);
            let lead = queue.leaders < groups.lanes;
            if lead {
                queue.leaders += 1;
            }
            lead
        };
        if lead {
            let state = state.clone();
            actix_web::rt::spawn(async move {
                groups.lead(&state, organisation, rules).await;
            });
        }
        answer.await.map_err(|_| {
            AppError::Internal(anyhow::anyhow!("a booking group ended without an answer"))
        })?
    }

    /// Runs the organisation's groups until its queue is empty.
    async fn lead(&self, state: &AppState, organisation: OrganisationId, rules: Rules) {
        let mut lane = Lane {
            groups: self,
            organisation,
            done: false,
        };
        if !self.window.is_zero() {
            tokio::time::sleep(self.window).await;
        }
        loop {
            let mut group: Vec<Waiting> = {
                let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                let Some(queue) = queues.get_mut(&organisation) else {
                    lane.done = true;
                    return;
                };
                if queue.waiting.is_empty() {
                    // Under the same lock as the arrivals' check, so none
                    // is left without a leader.
                    queue.leaders -= 1;
                    if queue.leaders == 0 {
                        queues.remove(&organisation);
                    }
                    lane.done = true;
                    return;
                }
                let n = queue.waiting.len().min(MAX_GROUP);
                queue.waiting.drain(..n).collect()
            };
            // Session by session (stable: arrival order within one), so
            // every group locks session rows in the same order.
            group.sort_by_key(|w| w.request.session.0);
            let (work, replies): (Vec<_>, Vec<_>) =
                group.into_iter().map(|w| (w.request, w.reply)).unzip();
            // The answers are sent by the database work itself, right after
            // its commit: it runs to its end even when this task is dropped
            // (an actix worker stopping at shutdown), so a committed
            // booking is never left without its answer. If the work never
            // ran or did not finish in time, the leader answers instead;
            // whichever comes first takes the replies.
            let replies = Arc::new(Mutex::new(Some(replies)));
            let in_work = replies.clone();
            let ran = state
                .db(move |conn| {
                    let answers = run(conn, organisation, &work, rules);
                    if let Some(replies) = take(&in_work) {
                        for (reply, answer) in replies.into_iter().zip(answers) {
                            // A client that went away no longer listens.
                            let _ = reply.send(answer);
                        }
                    }
                    Ok(())
                })
                .await;
            if let (Err(e), Some(replies)) = (ran, take(&replies)) {
                // No connection, or the database did not answer in time:
                // every booking of the group gets that answer (503).
                let mut first = Some(e);
                for reply in replies {
                    let e = first.take().unwrap_or(AppError::DatabaseTimeout);
                    let _ = reply.send(Err(e));
                }
            }
        }
    }
}

type Replies = Vec<oneshot::Sender<AppResult<Booked>>>;

fn take(replies: &Mutex<Option<Replies>>) -> Option<Replies> {
    replies.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// A running leader's place among its organisation's lanes. A leader that
/// ends without emptying its queue (its task dropped at shutdown, or a
/// panic) gives its lane back here, and when no other leader remains it
/// answers the bookings still waiting with 503 instead of leaving them
/// waiting for ever.
struct Lane<'a> {
    groups: &'a Groups,
    organisation: OrganisationId,
    done: bool,
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut queues = self.groups.queues.lock().unwrap_or_else(|e| e.into_inner());
        let Some(queue) = queues.get_mut(&self.organisation) else {
            return;
        };
        queue.leaders = queue.leaders.saturating_sub(1);
        if queue.leaders == 0 {
            for waiting in queue.waiting.drain(..) {
                let _ = waiting.reply.send(Err(AppError::DatabaseTimeout));
            }
            queues.remove(&self.organisation);
        }
    }
}

/// One group: the callers, the reads and each booking's checks, then its
/// transaction. Returns an answer per request, in order.
pub fn run(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    requests: &[Request],
    rules: Rules,
) -> Vec<AppResult<Booked>> {
    let mut answers: Vec<Option<AppResult<Booked>>> = requests.iter().map(|_| None).collect();
    let ready = match prepare(conn, organisation, requests, rules) {
        Ok(prepared) => prepared,
        Err(e) => {
            // A read failed: every booking gets that failure's answer.
            let mut first = Some(e);
            return requests
                .iter()
                .map(|_| Err(first.take().unwrap_or(AppError::DatabaseTimeout)))
                .collect();
        }
    };
    let (mut indices, mut group) = (Vec::new(), Vec::new());
    for (i, prepared) in ready.into_iter().enumerate() {
        match prepared {
            Ok(p) => {
                indices.push(i);
                group.push(p);
            }
            Err(e) => answers[i] = Some(Err(e)),
        }
    }
    for (i, answer) in indices
        .into_iter()
        .zip(commit(conn, &group, rules.turnaround_minutes))
    {
        answers[i] = Some(answer);
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or(Err(AppError::DatabaseTimeout)))
        .collect()
}

/// The callers (one look-up per auth session) and the reads of every
/// booking of the group, then each booking's own checks.
fn prepare(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    requests: &[Request],
    rules: Rules,
) -> AppResult<Vec<AppResult<(Caller, Prepared)>>> {
    let mut callers: HashMap<_, Option<Caller>> = HashMap::new();
    for r in requests {
        if let std::collections::hash_map::Entry::Vacant(slot) = callers.entry(r.bearer.key()) {
            slot.insert(r.bearer.caller(conn).ok());
        }
    }
    let sessions: Vec<SessionId> = requests.iter().map(|r| r.session).collect();
    let residents: Vec<ResidentId> = requests
        .iter()
        .map(|r| ResidentId(r.booking.resident_id))
        .collect();
    let sessions = super::queries::sessions_with_courses(conn, organisation, &sessions)?;
    let residents = super::queries::residents_with_no_shows(
        conn,
        organisation,
        &residents,
        rules.no_shows.since(),
    )?;
    Ok(requests
        .iter()
        .map(|r| {
            let caller = match callers.get(&r.bearer.key()).cloned().flatten() {
                Some(caller) => caller,
                // Refused: look again for this one's own answer (401, 403).
                None => r.bearer.caller(conn)?,
            };
            caller.require(WRITERS)?;
            // A resident booked twice in one group is read once.
            let session = sessions.get(&r.session).cloned();
            let resident = residents.get(&ResidentId(r.booking.resident_id)).cloned();
            let prepared = service::prepare_from(
                conn,
                &caller,
                session,
                resident,
                &r.booking,
                rules.no_shows,
            )?;
            Ok((caller, prepared))
        })
        .collect())
}

/// One group's transaction: all together, or (when one of them fails)
/// each alone. Returns an answer per booking, in order.
///
/// Together, the reference codes `prepare` drew are not checked first: the
/// unique index refuses a taken one (about one booking in ten thousand for
/// an organisation with 100,000 bookings), and the group runs alone. Alone,
/// each booking first takes a checked code, as `service::book` does.
fn commit(
    conn: &mut DbConnection,
    group: &[(Caller, Prepared)],
    turnaround_minutes: i64,
) -> Vec<AppResult<Booked>> {
    if group.is_empty() {
        return Vec::new();
    }
    let together: AppResult<Vec<Booked>> = write_tx(conn, |conn| {
        // Alone, a booking takes its place in one statement of its own.
        let places = if group.len() > 1 {
            take_places(conn, group)?
        } else {
            vec![None]
        };
        let mut later = Later::default();
        let all = group
            .iter()
            .zip(places)
            .map(|((caller, prepared), place)| {
                service::commit(
                    conn,
                    caller,
                    prepared,
                    turnaround_minutes,
                    place,
                    Some(&mut later),
                )
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
                service::commit(conn, caller, &prepared, turnaround_minutes, None, None)
            })
        })
        .collect()
}

/// Locks the group's sessions (one statement, in id order) and counts
/// their seats and waitlist places in memory, in the group's order, then
/// writes what was taken (one statement on PostgreSQL): a place for every
/// booking of a first-come session that has one. A booking left without
/// (a lottery before its draw, a session no longer scheduled, full without
/// a waitlist) takes its own in `service::commit`, which gives it the
/// answer it would have had alone.
fn take_places(
    conn: &mut DbConnection,
    group: &[(Caller, Prepared)],
) -> AppResult<Vec<Option<queries::Place>>> {
    let mut ids: Vec<SessionId> = group.iter().map(|(_, p)| p.session_id()).collect();
    ids.sort_unstable();
    ids.dedup();
    let locked = queries::lock_counters(conn, &ids)?;
    let mut counters: HashMap<SessionId, queries::Counters> =
        locked.iter().map(|c| (c.id, c.clone())).collect();
    let places: Vec<Option<queries::Place>> = group
        .iter()
        .map(|(_, p)| counters.get_mut(&p.session_id())?.take())
        .collect();
    let taken: Vec<queries::Taken> = locked
        .iter()
        .filter_map(|before| counters[&before.id].taken_since(before))
        .collect();
    queries::add_to_counters(conn, &taken)?;
    Ok(places)
}
