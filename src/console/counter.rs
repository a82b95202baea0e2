//! The consultation counter: intake per channel with queue numbers and a
//! printable slip, the queues with service-level badges, a ticket's page
//! (allowed moves only, taking it, replies and notes), calling the next
//! number, and the waiting-room board behind a rotatable secret link.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;
use uuid::Uuid;

use super::{ConsoleError, ConsoleResult, Page, Staff, html, message};
use crate::db::{TicketId, VenueId};
use crate::error::AppError;
use crate::state::AppState;
use crate::tickets::types::{NewTicket, TicketFilter, TicketStatus};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/counter", web::get().to(counter))
        .route("/counter/tickets", web::post().to(intake))
        .route("/counter/queue", web::get().to(queue))
        .route("/counter/call-next", web::post().to(call_next))
        .route("/counter/slip/{id}", web::get().to(slip))
        .route("/counter/board-link", web::post().to(board_link))
        .route("/tickets/{id}", web::get().to(ticket_page))
        .route("/tickets/{id}/move", web::post().to(move_ticket))
        .route("/tickets/{id}/take", web::post().to(take))
        .route("/tickets/{id}/auto-assign", web::post().to(auto_assign))
        .route("/tickets/{id}/assign", web::post().to(assign))
        .route("/tickets/{id}/merge", web::post().to(merge))
        .route("/tickets/{id}/notes", web::post().to(note))
        .route("/board/{venue}", web::get().to(board))
        .route("/board/{venue}/numbers", web::get().to(board_numbers));
}

pub fn status_word(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::New => "新規",
        TicketStatus::Triaged => "振り分け済み",
        TicketStatus::Assigned => "担当決定",
        TicketStatus::InProgress => "対応中",
        TicketStatus::WaitingOnResident => "回答待ち",
        TicketStatus::Resolved => "解決",
        TicketStatus::Closed => "完了",
        TicketStatus::Cancelled => "取消",
    }
}

fn channel_word(c: &str) -> &'static str {
    match c {
        "face_to_face" => "来所",
        "phone" => "電話",
        "email" => "メール",
        "fax" => "FAX",
        _ => "ウェブ",
    }
}

#[derive(Template)]
#[template(path = "console/counter.html")]
struct Counter {
    page: Page,
    office: bool,
    venues: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
}

async fn counter(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    let caller = staff.caller.clone();
    let (venues, categories) = state
        .db(move |conn| {
            let org = caller.organisation_id;
            let vf = crate::venues::types::VenueFilter {
                active: Some(true),
                q: None,
                limit: None,
                cursor: None,
            };
            let venues = crate::venues::queries::list(conn, org, &vf, 200)?
                .into_iter()
                .map(|v| (v.id.to_string(), v.name))
                .collect();
            let categories = crate::tickets::queries::category_codes(conn, org)?
                .into_iter()
                .map(|(code, label, _)| (code, label))
                .collect();
            Ok((venues, categories))
        })
        .await?;
    html(
        StatusCode::OK,
        Counter {
            office: crate::auth::access::sees_everything(&staff.caller),
            page: Page::of(&staff),
            venues,
            categories,
            statuses: TicketStatus::ALL
                .iter()
                .map(|s| (s.as_str(), status_word(*s)))
                .collect(),
        },
    )
}

#[derive(Deserialize)]
struct IntakeForm {
    channel: String,
    venue_id: Option<String>,
    category: String,
    subject: String,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    received_at: Option<String>,
    resolved_with: Option<String>,
}

#[derive(Template)]
#[template(path = "console/intake_done.html")]
struct IntakeDone {
    id: TicketId,
    number: i32,
}

fn blank_none(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

async fn intake(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<IntakeForm>,
) -> ConsoleResult {
    let f = form.into_inner();
    let venue = match blank_none(f.venue_id) {
        Some(v) => Some(
            v.parse::<Uuid>()
                .map_err(|_| AppError::invalid_field("venue_id", "no such venue"))?,
        ),
        None => None,
    };
    let received_local = match blank_none(f.received_at) {
        Some(t) => Some(
            NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M")
                .map_err(|_| AppError::invalid_field("received_at", "日時の形がちがいます"))?,
        ),
        None => None,
    };
    let max_age = state.settings.tickets.received_at_max_age_hours;
    let caller = staff.caller.clone();
    let row = state
        .write(move |conn| {
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            let received_at = received_local.map(|t| crate::calendar::to_utc(&tz, t));
            let request = NewTicket {
                channel: f.channel,
                category: f.category,
                subject: f.subject,
                description: None,
                priority: None,
                device: None,
                os: None,
                resident_id: None,
                contact_name: blank_none(f.contact_name),
                contact_phone: blank_none(f.contact_phone),
                contact_email: blank_none(f.contact_email),
                venue_id: venue,
                resolved_with: blank_none(f.resolved_with),
                received_at,
            };
            crate::tickets::service::create(conn, &caller, &tz, &request, max_age)
        })
        .await?;
    html(
        StatusCode::OK,
        IntakeDone {
            id: row.id,
            number: row.queue_number.unwrap_or(0),
        },
    )
}

pub struct QueueLine {
    pub id: TicketId,
    pub number: String,
    pub subject: String,
    pub channel: &'static str,
    pub status: &'static str,
    pub overdue: bool,
    pub at_risk: bool,
}

#[derive(Template)]
#[template(path = "console/counter_queue.html")]
struct Queue {
    rows: Vec<QueueLine>,
    counts: Counts,
    note: String,
}

#[derive(Deserialize)]
struct QueueQuery {
    view: Option<String>,
    status: Option<String>,
    category: Option<String>,
    channel: Option<String>,
}

/// The queue the counter shows: mine, my venue's, unassigned (default) or
/// all, with the open counts of each refreshed with it.
async fn queue(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<QueueQuery>,
) -> ConsoleResult {
    let q = q.into_inner();
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(TicketStatus::parse);
    let view = q.view.unwrap_or_default();
    let category = q.category.filter(|c| !c.is_empty());
    let channel = q.channel.filter(|c| !c.is_empty());
    let caller = staff.caller.clone();
    let (rows, counts, note) = state
        .db(move |conn| {
            let me = crate::staff::queries::find(conn, caller.organisation_id, caller.account_id)?;
            let my_venue = me.and_then(|m| m.venue_id);
            let mut filter = TicketFilter {
                status,
                category,
                channel,
                limit: None,
                ..Default::default()
            };
            let mut note = String::new();
            match view.as_str() {
                "mine" => filter.queue = Some("mine".into()),
                "venue" => match my_venue {
                    Some(v) => filter.venue_id = Some(v.0),
                    None => {
                        note =
                            "担当会場が決まっていません（管理者が「スタッフ」で決めます）。".into()
                    }
                },
                "all" => {}
                _ => filter.queue = Some("unassigned".into()),
            }
            let rows = if note.is_empty() {
                crate::tickets::service::list(conn, &caller, &filter, None, 100)?
            } else {
                Vec::new()
            };
            // The open tickets the person may see, counted per view.
            let open =
                crate::tickets::service::list(conn, &caller, &TicketFilter::default(), None, 1000)?;
            let open: Vec<_> = open.into_iter().filter(|t| t.status.is_open()).collect();
            let counts = Counts {
                mine: open
                    .iter()
                    .filter(|t| t.assignee_id == Some(caller.account_id))
                    .count(),
                venue: my_venue.map(|v| open.iter().filter(|t| t.venue_id == Some(v)).count()),
                unassigned: open.iter().filter(|t| t.assignee_id.is_none()).count(),
                overdue: open
                    .iter()
                    .filter(|t| t.sla.as_ref().is_some_and(|s| s.overdue))
                    .count(),
            };
            Ok((rows, counts, note))
        })
        .await?;
    let rows = rows
        .into_iter()
        .map(|t| QueueLine {
            id: t.id,
            number: t
                .queue_number
                .map(|n| n.to_string())
                .unwrap_or_else(|| "—".into()),
            subject: t.subject,
            channel: channel_word(t.channel.as_str()),
            status: status_word(t.status),
            overdue: t.sla.as_ref().is_some_and(|s| s.overdue),
            at_risk: t.sla.as_ref().is_some_and(|s| s.at_risk),
        })
        .collect();
    html(StatusCode::OK, Queue { rows, counts, note })
}

/// Open tickets per view, shown above the queue.
pub struct Counts {
    pub mine: usize,
    pub venue: Option<usize>,
    pub unassigned: usize,
    pub overdue: usize,
}

#[derive(Deserialize)]
struct VenueForm {
    venue_id: Uuid,
}

async fn call_next(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<VenueForm>,
) -> ConsoleResult {
    let venue = VenueId(form.into_inner().venue_id);
    let caller = staff.caller.clone();
    let called = state
        .write(move |conn| crate::tickets::service::call_next(conn, &caller, venue))
        .await?;
    match called {
        Some(t) => message(
            "success",
            &format!(
                "受付番号 {} の方をお呼びしました。",
                t.queue_number.unwrap_or(0)
            ),
        ),
        None => message("notice", "お待ちの方はいません。"),
    }
}

#[derive(Template)]
#[template(path = "console/slip.html")]
struct Slip {
    version: &'static str,
    number: i32,
    venue: String,
    time: String,
}

/// A receipt-printer slip: number, time, venue; nothing personal.
async fn slip(state: web::Data<AppState>, staff: Staff, id: web::Path<Uuid>) -> ConsoleResult {
    let id = TicketId(id.into_inner());
    let caller = staff.caller.clone();
    let (number, venue, time) = state
        .db(move |conn| {
            let t = crate::tickets::service::find(conn, &caller, id)?;
            let number = t
                .queue_number
                .ok_or_else(|| AppError::not_found("queue number"))?;
            let venue = match t.venue_id {
                Some(v) => crate::venues::queries::find(conn, caller.organisation_id, v)?
                    .map(|v| v.name)
                    .unwrap_or_default(),
                None => String::new(),
            };
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            let at = t.received_at.and_utc().with_timezone(&tz);
            let day = super::desk::when_day(at.date_naive());
            Ok((number, venue, format!("{day} {}", at.format("%H:%M"))))
        })
        .await?;
    html(
        StatusCode::OK,
        Slip {
            version: super::assets::css_version(),
            number,
            venue,
            time,
        },
    )
}

/// Makes (or remakes) a venue's board link; the old one stops working.
async fn board_link(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<VenueForm>,
) -> ConsoleResult {
    staff
        .caller
        .require(crate::auth::WRITERS)
        .map_err(ConsoleError::from)?;
    let venue = VenueId(form.into_inner().venue_id);
    let secret = crate::auth::tokens::generate();
    let digest = crate::auth::tokens::digest(&secret);
    let caller = staff.caller.clone();
    state
        .write(move |conn| {
            crate::venues::queries::find(conn, caller.organisation_id, venue)?
                .ok_or_else(|| AppError::not_found("venue"))?;
            crate::tickets::queries::set_board_link(conn, caller.organisation_id, venue, &digest)?;
            crate::audit::record(
                conn,
                &caller,
                "board.rotate",
                "venue",
                venue,
                "waiting-room board link made".to_owned(),
            )?;
            Ok(())
        })
        .await?;
    message(
        "success",
        &format!("このリンクをテレビのブラウザで開いてください： /board/{venue}?token={secret}"),
    )
}

pub struct Shown {
    pub id: TicketId,
    pub subject: String,
    pub status: &'static str,
    pub channel: &'static str,
    pub received: String,
    pub number: String,
    pub requester: String,
    pub assignee: String,
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage {
    page: Page,
    t: Shown,
    moves: Vec<(&'static str, &'static str)>,
    timeline: Vec<String>,
    /// Who the ticket can be given to (active staff who work tickets).
    people: Vec<(String, String)>,
    /// Other open tickets this one may duplicate: (id, number and subject).
    others: Vec<(String, String)>,
    open: bool,
    /// Admins and coordinators give tickets to others and merge them.
    office: bool,
}

async fn ticket_page(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    let id = TicketId(id.into_inner());
    let caller = staff.caller.clone();
    let (t, moves, timeline, people, others, open) = state
        .db(move |conn| {
            let row = crate::tickets::service::find(conn, &caller, id)?;
            let staff_filter = crate::staff::types::StaffFilter {
                role: None,
                active: Some(true),
                q: None,
                limit: None,
                cursor: None,
            };
            let people: Vec<(String, String)> =
                crate::staff::queries::list(conn, caller.organisation_id, &staff_filter, 500)?
                    .into_iter()
                    .filter(|s| s.role != "instructor")
                    .map(|s| (s.id.to_string(), s.name))
                    .collect();
            let others: Vec<(String, String)> =
                crate::tickets::service::list(conn, &caller, &TicketFilter::default(), None, 200)?
                    .into_iter()
                    .filter(|t| t.id != id && t.status.is_open())
                    .map(|t| {
                        (
                            t.id.to_string(),
                            format!(
                                "{}{}",
                                t.queue_number
                                    .map(|n| format!("{n}番 "))
                                    .unwrap_or_default(),
                                t.subject
                            ),
                        )
                    })
                    .collect();
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            let at = row.received_at.and_utc().with_timezone(&tz);
            let assignee = match row.assignee_id {
                Some(a) => crate::staff::queries::find(conn, caller.organisation_id, a)?
                    .map(|s| s.name)
                    .unwrap_or_default(),
                None => "なし".into(),
            };
            let status = row.status();
            let moves = TicketStatus::ALL
                .iter()
                .filter(|to| status.can_become(**to))
                .map(|to| (to.as_str(), status_word(*to)))
                .collect();
            let timeline = crate::tickets::queries::timeline(conn, id)?
                .into_iter()
                .map(|(kind, _, to_status, body, _, created_at)| {
                    let when = tz.from_utc_datetime(&created_at).format("%m/%d %H:%M");
                    match (
                        kind.as_str(),
                        to_status.as_deref().and_then(TicketStatus::parse),
                        body,
                    ) {
                        ("status", Some(to), _) => format!("{when} {}", status_word(to)),
                        ("reply", _, Some(b)) => format!("{when} 返信：{b}"),
                        ("note", _, Some(b)) => format!("{when} メモ：{b}"),
                        (kind, _, body) => format!("{when} {kind} {}", body.unwrap_or_default()),
                    }
                })
                .collect();
            Ok((
                Shown {
                    id: row.id,
                    subject: row.subject.clone(),
                    status: status_word(status),
                    channel: channel_word(row.channel.as_str()),
                    received: format!(
                        "{} {}",
                        super::desk::when_day(at.date_naive()),
                        at.format("%H:%M")
                    ),
                    number: row
                        .queue_number
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "—".into()),
                    requester: [
                        row.contact_name.clone(),
                        row.contact_phone.clone(),
                        row.contact_email.clone(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                    assignee,
                },
                moves,
                timeline,
                people,
                others,
                status.is_open(),
            ))
        })
        .await?;
    html(
        StatusCode::OK,
        TicketPage {
            page: Page::of(&staff),
            t,
            moves,
            timeline,
            people,
            others,
            open,
            office: crate::auth::access::sees_everything(&staff.caller),
        },
    )
}

#[derive(Deserialize)]
struct MoveForm {
    to: String,
}

async fn move_ticket(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<MoveForm>,
) -> ConsoleResult {
    let id = TicketId(id.into_inner());
    let to = TicketStatus::parse(&form.into_inner().to)
        .ok_or_else(|| AppError::invalid_field("to", "unknown state"))?;
    let caller = staff.caller.clone();
    state
        .write(move |conn| crate::tickets::service::transition(conn, &caller, id, to, None))
        .await?;
    Ok(super::hx_redirect(&format!("/tickets/{id}")))
}

async fn take(state: web::Data<AppState>, staff: Staff, id: web::Path<Uuid>) -> ConsoleResult {
    let id = TicketId(id.into_inner());
    let caller = staff.caller.clone();
    state
        .write(move |conn| {
            crate::tickets::service::assign(conn, &caller, id, caller.account_id, None)
        })
        .await?;
    Ok(super::hx_redirect(&format!("/tickets/{id}")))
}

async fn auto_assign(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    let id = TicketId(id.into_inner());
    let caller = staff.caller.clone();
    let done = state
        .write(move |conn| crate::tickets::duty::auto_assign(conn, &caller, id))
        .await;
    match done {
        Ok(()) => Ok(super::hx_redirect(&format!("/tickets/{id}"))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct AssignForm {
    assignee_id: Uuid,
}

/// Gives the ticket to a colleague (volunteers may only take it
/// themselves: the service refuses the rest).
async fn assign(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<AssignForm>,
) -> ConsoleResult {
    let id = TicketId(id.into_inner());
    let to = crate::db::AccountId(form.into_inner().assignee_id);
    let caller = staff.caller.clone();
    state
        .write(move |conn| crate::tickets::service::assign(conn, &caller, id, to, None))
        .await?;
    Ok(super::hx_redirect(&format!("/tickets/{id}")))
}

#[derive(Deserialize)]
struct MergeForm {
    into_id: Uuid,
}

/// Merges this duplicate into another ticket and opens the one that
/// remains.
async fn merge(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<MergeForm>,
) -> ConsoleResult {
    let id = TicketId(id.into_inner());
    let into = TicketId(form.into_inner().into_id);
    let caller = staff.caller.clone();
    let survivor = state
        .write(move |conn| crate::tickets::service::merge(conn, &caller, id, into))
        .await?;
    Ok(super::hx_redirect(&format!("/tickets/{}", survivor.id)))
}

#[derive(Deserialize)]
struct NoteForm {
    body: String,
    kind: Option<String>,
}

async fn note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<NoteForm>,
) -> ConsoleResult {
    let id = TicketId(id.into_inner());
    let f = form.into_inner();
    let reply = f.kind.as_deref() == Some("reply");
    let caller = staff.caller.clone();
    state
        .write(move |conn| crate::tickets::service::note(conn, &caller, id, &f.body, reply))
        .await?;
    Ok(super::hx_redirect(&format!("/tickets/{id}")))
}

#[derive(Deserialize)]
struct BoardQuery {
    token: String,
}

#[derive(Template)]
#[template(path = "console/board.html")]
struct Board {
    version: &'static str,
    venue: VenueId,
    token: String,
}

#[derive(Template)]
#[template(path = "console/board_numbers.html")]
struct BoardNumbers {
    called: Vec<i32>,
    waiting: Vec<i32>,
}

/// The board's organisation if the link is right (403 otherwise).
async fn board_org(
    state: &AppState,
    venue: VenueId,
    token: &str,
) -> Result<crate::db::OrganisationId, ConsoleError> {
    let digest = crate::auth::tokens::digest(token);
    state
        .db(move |conn| Ok(crate::tickets::queries::board_owner(conn, venue, &digest)?))
        .await?
        .ok_or(ConsoleError::Csrf)
}

/// The waiting-room board: no login, no names, a secret per-venue link.
async fn board(
    state: web::Data<AppState>,
    venue: web::Path<Uuid>,
    q: web::Query<BoardQuery>,
) -> ConsoleResult {
    let venue = VenueId(venue.into_inner());
    let token = q.into_inner().token;
    board_org(&state, venue, &token).await?;
    html(
        StatusCode::OK,
        Board {
            version: super::assets::css_version(),
            venue,
            token,
        },
    )
}

async fn board_numbers(
    state: web::Data<AppState>,
    venue: web::Path<Uuid>,
    q: web::Query<BoardQuery>,
) -> ConsoleResult {
    let venue = VenueId(venue.into_inner());
    let org = board_org(&state, venue, &q.into_inner().token).await?;
    let rows = state
        .db(move |conn| {
            let tz = crate::calendar::timezone(conn, org)?;
            Ok(crate::tickets::queries::queue_of(
                conn,
                org,
                venue,
                crate::calendar::today(tz),
            )?)
        })
        .await?;
    let mut called: Vec<(chrono::NaiveDateTime, i32)> = Vec::new();
    let mut waiting = Vec::new();
    for t in rows {
        let status = t.status();
        let Some(n) = t.queue_number else { continue };
        if !status.is_open() || status == TicketStatus::WaitingOnResident {
            continue;
        }
        match t.called_at {
            Some(at) if status != TicketStatus::InProgress => called.push((at, n)),
            Some(_) => {}
            None => waiting.push(n),
        }
    }
    called.sort_by_key(|c| std::cmp::Reverse(c.0));
    waiting.sort();
    html(
        StatusCode::OK,
        BoardNumbers {
            called: called.into_iter().take(3).map(|(_, n)| n).collect(),
            waiting: waiting.into_iter().take(6).collect(),
        },
    )
}
