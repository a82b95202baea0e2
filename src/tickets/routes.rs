//! `/api/v1/tickets`: the consultation desk's queue.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries;
use super::service;
use super::sla;
use super::stats::{self, Stats};
use super::types::{
    Assign, LinkTicket, MergeTicket, NewNote, NewTicket, Ticket, TicketDetail, TicketFilter,
    TicketStatus, TimelineEntry, Transition,
};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::courses::types::topic_code;
use crate::db::{AccountId, DbConnection, TicketId, VenueId};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::idempotency::{Answer, Idempotent};
use crate::pagination::{self, Page};
use crate::state::AppState;
use crate::validate::{Checker, optional_text, required_text};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_ticket)
        .service(list_tickets)
        .service(ticket_counts)
        .service(ticket_stats)
        .service(get_ticket)
        .service(transition)
        .service(assign)
        .service(add_note)
        .service(call)
        .service(merge)
        .service(link)
        .service(queue_board)
        .service(list_categories)
        .service(create_category);
}

pub(crate) fn detail(
    conn: &mut DbConnection,
    caller: &Caller,
    id: TicketId,
) -> AppResult<TicketDetail> {
    let row = service::find(conn, caller, id)?;
    let ticket = sla::annotate(conn, caller.organisation_id, vec![row])?
        .pop()
        .ok_or_else(|| AppError::not_found("ticket"))?;
    let timeline = queries::timeline(conn, id)?
        .into_iter()
        .map(
            |(kind, from_status, to_status, body, actor_id, at)| TimelineEntry {
                kind,
                from_status,
                to_status,
                body,
                actor_id,
                at: at.and_utc(),
            },
        )
        .collect();
    Ok(TicketDetail { ticket, timeline })
}

/// Take a question (visit, phone, email, FAX, web). A face-to-face question
/// gets the venue's next queue number; one answered on the spot is logged as
/// resolved in this one request (`resolved_with`). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = NewTicket,
    responses(
        (status = 201, description = "Taken", body = Ticket),
        (status = 422, description = "Invalid fields, unknown category, resident or venue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tickets")]
async fn create_ticket(
    state: web::Data<AppState>,
    caller: Caller,
    idempotent: Idempotent,
    body: ApiJson<NewTicket>,
) -> AppResult<HttpResponse> {
    let request = body.0;
    let org = caller.organisation_id;
    let max_age = state.settings.tickets.received_at_max_age_hours;
    idempotent
        .with_body(&request)?
        .run(&state, org, move |conn| {
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            let row = service::create(conn, &caller, &tz, &request, max_age)?;
            let ticket = sla::annotate(conn, caller.organisation_id, vec![row])?;
            Answer::new(StatusCode::CREATED, &ticket[0])
        })
        .await
}

/// Find tickets. Volunteers see their own queue and the unassigned one.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(TicketFilter),
    responses((status = 200, description = "One page of tickets", body = Page<Ticket>))
)]
#[get("/tickets")]
async fn list_tickets(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<TicketFilter>,
) -> AppResult<web::Json<Page<Ticket>>> {
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    let by_sla = match filter.sla.as_deref() {
        None => None,
        Some(s @ ("overdue" | "at_risk")) => Some(s.to_owned()),
        Some(_) => return Err(AppError::invalid_field("sla", "must be overdue or at_risk")),
    };
    let items: Vec<Ticket> = state
        .db(move |conn| service::list(conn, &caller, &filter, by_sla.as_deref(), limit))
        .await?;
    Ok(web::Json(pagination::page(items, limit, |t| {
        t.id.to_string()
    })))
}

/// Counts of tickets per status, for a dashboard.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    responses((status = 200, description = "status → count", body = std::collections::BTreeMap<String, usize>))
)]
#[get("/tickets/counts")]
async fn ticket_counts(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<std::collections::BTreeMap<String, usize>>> {
    let statuses = state
        .db(move |conn| Ok(queries::statuses(conn, caller.organisation_id)?))
        .await?;
    let mut counts: std::collections::BTreeMap<String, usize> = TicketStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    for s in statuses {
        *counts.entry(s).or_default() += 1;
    }
    Ok(web::Json(counts))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// An RFC 3339 instant, or a local date (from the start of that day).
    #[param(value_type = String)]
    pub from: crate::calendar::Instant,
    /// An RFC 3339 instant, or a local date (that whole day included).
    #[param(value_type = String)]
    pub to: crate::calendar::Instant,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// Statistics of the tickets taken in `[from, to)`: counts by channel,
/// category, status and priority, and median times; `format=csv` for the
/// monthly report.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, description = "The figures (JSON or text/csv)", body = Stats),
        (status = 422, description = "Invalid range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tickets/stats")]
async fn ticket_stats(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<StatsQuery>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let mut q = query.into_inner();
    let figures = state
        .db(move |conn| {
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            q.from.resolve_start(tz);
            q.to.resolve_end(tz);
            if q.to.utc() <= q.from.utc() {
                return Err(AppError::invalid_field("to", "must be after from"));
            }
            let rows = queries::received_between(
                conn,
                caller.organisation_id,
                q.from.naive_utc(),
                q.to.naive_utc(),
            )?;
            let calendars = sla::Calendars::of(conn, caller.organisation_id, &rows)?;
            Ok(stats::compute(&rows, |row, a, b| {
                calendars
                    .of_ticket(row)
                    .business_minutes_between(a.and_utc(), b.and_utc())
            }))
        })
        .await?;
    match q.format.as_deref() {
        Some("csv") => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(stats::csv(&figures)?)),
        None | Some("json") => Ok(HttpResponse::Ok().json(figures)),
        Some(_) => Err(AppError::invalid_field("format", "must be json or csv")),
    }
}

/// One ticket with its timeline.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket", body = TicketDetail),
        (status = 404, description = "No such ticket (in this organisation, or in a volunteer's queues)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tickets/{id}")]
async fn get_ticket(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<TicketDetail>> {
    let id = TicketId(id.into_inner());
    let ticket = state.db(move |conn| detail(conn, &caller, id)).await?;
    Ok(web::Json(ticket))
}

/// Move a ticket to another state; only the allowed transitions pass.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = Transition,
    responses(
        (status = 200, description = "Moved", body = TicketDetail),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not an allowed move (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tickets/{id}/transitions")]
async fn transition(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<Transition>,
) -> AppResult<web::Json<TicketDetail>> {
    let id = TicketId(id.into_inner());
    let note = optional_text(body.0.note.as_deref(), 4000)
        .map_err(|m| AppError::invalid_field("note", m))?;
    let to = body.0.to;
    let ticket = state
        .write(move |conn| {
            service::transition(conn, &caller, id, to, note.as_deref())?;
            detail(conn, &caller, id)
        })
        .await?;
    Ok(web::Json(ticket))
}

/// Assign or reassign a ticket (volunteers may take one for themselves).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = Assign,
    responses(
        (status = 200, description = "Assigned", body = TicketDetail),
        (status = 409, description = "A closed or resolved ticket", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an active volunteer or coordinator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tickets/{id}/assign")]
async fn assign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<Assign>,
) -> AppResult<web::Json<TicketDetail>> {
    let id = TicketId(id.into_inner());
    let note = optional_text(body.0.note.as_deref(), 4000)
        .map_err(|m| AppError::invalid_field("note", m))?;
    let assignee = AccountId(body.0.assignee_id);
    let ticket = state
        .write(move |conn| {
            service::assign(conn, &caller, id, assignee, note.as_deref())?;
            detail(conn, &caller, id)
        })
        .await?;
    Ok(web::Json(ticket))
}

/// Add an internal note or a reply to the requester.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = NewNote,
    responses(
        (status = 201, description = "Added", body = TicketDetail),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty body or unknown kind", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tickets/{id}/notes")]
async fn add_note(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<NewNote>,
) -> AppResult<HttpResponse> {
    let id = TicketId(id.into_inner());
    let reply = match body.0.kind.as_deref() {
        None | Some("internal") => false,
        Some("reply") => true,
        Some(_) => return Err(AppError::invalid_field("kind", "must be internal or reply")),
    };
    let text = body.0.body;
    let ticket = state
        .write(move |conn| {
            service::note(conn, &caller, id, &text, reply)?;
            detail(conn, &caller, id)
        })
        .await?;
    Ok(HttpResponse::Created().json(ticket))
}

/// Call a walk-in to the desk (shown as "called" on the queue board).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "Called", body = Ticket),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a waiting walk-in (`invalid_state`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tickets/{id}/call")]
async fn call(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Ticket>> {
    let id = TicketId(id.into_inner());
    let ticket = state
        .write(move |conn| {
            service::call(conn, &caller, id)?;
            let row = service::find(conn, &caller, id)?;
            sla::annotate(conn, caller.organisation_id, vec![row])?
                .pop()
                .ok_or_else(|| AppError::not_found("ticket"))
        })
        .await?;
    Ok(web::Json(ticket))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// The local day (default: today).
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueBoard {
    pub date: NaiveDate,
    /// Not yet called, in number order.
    pub waiting: Vec<Ticket>,
    /// Called to the desk, not yet being served.
    pub called: Vec<Ticket>,
    /// Being served now.
    pub serving: Vec<Ticket>,
}

/// The walk-in queue board of a venue's day.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Venue id"), QueueQuery),
    responses(
        (status = 200, description = "The board", body = QueueBoard),
        (status = 404, description = "No such venue in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/venues/{id}/queue")]
async fn queue_board(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<QueueQuery>,
) -> AppResult<web::Json<QueueBoard>> {
    let venue = VenueId(id.into_inner());
    let requested = query.date;
    let (date, rows) = state
        .db(move |conn| {
            crate::venues::queries::find(conn, caller.organisation_id, venue)?
                .ok_or_else(|| AppError::not_found("venue"))?;
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            let date = requested.unwrap_or_else(|| Utc::now().with_timezone(&tz).date_naive());
            Ok((
                date,
                queries::queue_of(conn, caller.organisation_id, venue, date)?,
            ))
        })
        .await?;
    let mut board = QueueBoard {
        date,
        waiting: Vec::new(),
        called: Vec::new(),
        serving: Vec::new(),
    };
    for row in rows {
        let status = row.status();
        if status == TicketStatus::InProgress {
            board.serving.push(row.into());
        } else if status.is_open() && status != TicketStatus::WaitingOnResident {
            if row.called_at.is_some() {
                board.called.push(row.into());
            } else {
                board.waiting.push(row.into());
            }
        }
    }
    Ok(web::Json(board))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    pub code: String,
    pub label: String,
    /// `false` for the shared list.
    pub custom: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub code: String,
    pub label: String,
}

/// Ticket categories: the shared list and the organisation's own.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    responses((status = 200, description = "All categories", body = Vec<Category>))
)]
#[get("/ticket-categories")]
async fn list_categories(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<Vec<Category>>> {
    let rows = state
        .db(move |conn| Ok(queries::category_codes(conn, caller.organisation_id)?))
        .await?;
    Ok(web::Json(
        rows.into_iter()
            .map(|(code, label, custom)| Category {
                code,
                label,
                custom,
            })
            .collect(),
    ))
}

/// Add a category of the organisation's own.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    request_body = NewCategory,
    responses(
        (status = 201, description = "Added", body = Category),
        (status = 409, description = "The code exists (`category_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/ticket-categories")]
async fn create_category(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewCategory>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let mut v = Checker::new();
    let code = v.check("code", topic_code(&body.0.code));
    let label = v.check("label", required_text(&body.0.label, 100));
    v.finish()?;
    let (c, l) = (code.clone(), label.clone());
    state
        .write(move |conn| {
            if queries::category_codes(conn, caller.organisation_id)?
                .iter()
                .any(|(existing, _, _)| *existing == c)
            {
                return Err(AppError::conflict(
                    "category_exists",
                    format!("the category {c} exists"),
                ));
            }
            queries::insert_category(conn, caller.organisation_id, &c, &l)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(Category {
        code,
        label,
        custom: true,
    }))
}

/// Merge this duplicate into another ticket (timeline kept, no message sent).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The duplicate")),
    request_body = MergeTicket,
    responses(
        (status = 200, description = "Merged: the surviving ticket", body = TicketDetail),
        (status = 404, description = "Either ticket is not in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same ticket, or already merged or closed (`invalid_merge`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tickets/{id}/merge")]
async fn merge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<MergeTicket>,
) -> AppResult<web::Json<TicketDetail>> {
    let id = TicketId(id.into_inner());
    let into = TicketId(body.0.into_id);
    let ticket = state
        .write(move |conn| {
            let survivor = service::merge(conn, &caller, id, into)?;
            detail(conn, &caller, survivor.id)
        })
        .await?;
    Ok(web::Json(ticket))
}

/// Link a ticket to a resident and/or a booking (a follow-up appointment).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = LinkTicket,
    responses(
        (status = 200, description = "Linked", body = TicketDetail),
        (status = 404, description = "No such ticket", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown resident or booking", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tickets/{id}/links")]
async fn link(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<LinkTicket>,
) -> AppResult<web::Json<TicketDetail>> {
    let id = TicketId(id.into_inner());
    let (resident, booking) = (body.0.resident_id, body.0.booking_id);
    let ticket = state
        .write(move |conn| {
            service::link(conn, &caller, id, resident, booking)?;
            detail(conn, &caller, id)
        })
        .await?;
    Ok(web::Json(ticket))
}
