//! `/api/v1/outbox` (what was and will be mailed; failed messages and their
//! retry; depth and age) and `/api/v1/call-list` (whom to call, and how it
//! went).

use actix_web::{get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::calls;
use super::queries::{self, CallFilter};
use super::types::{
    CallItem, CallStatus, Kind, MailStatus, NewOutcome, OutboxMessage, OutboxStats,
};
use crate::auth::{Caller, WRITERS};
use crate::db::VenueId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;
use crate::validate::optional_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_outbox)
        .service(outbox_stats)
        .service(retry_message)
        .service(call_list)
        .service(record_outcome);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxFilter {
    /// `pending`, `sent` or `failed` (default `pending`).
    pub status: Option<MailStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Messages of the outbox by status, oldest first (admins, coordinators).
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(OutboxFilter),
    responses(
        (status = 200, description = "One page of messages", body = Page<OutboxMessage>),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/outbox")]
async fn list_outbox(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<OutboxFilter>,
) -> AppResult<web::Json<Page<OutboxMessage>>> {
    caller.require(WRITERS)?;
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let status = q.status.unwrap_or(MailStatus::Pending);
    let rows = state
        .db(move |conn| {
            Ok(queries::list_mail(
                conn,
                caller.organisation_id,
                status,
                q.cursor.as_deref(),
                limit,
            )?)
        })
        .await?;
    let items: Vec<OutboxMessage> = rows.into_iter().map(OutboxMessage::from).collect();
    Ok(web::Json(pagination::page(items, limit, |m| m.id.clone())))
}

/// How many messages wait, how long the oldest has waited, how many failed.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The outbox of the organisation", body = OutboxStats),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/outbox/stats")]
async fn outbox_stats(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<OutboxStats>> {
    caller.require(WRITERS)?;
    let counts = state
        .db(move |conn| Ok(queries::counts(conn, Some(caller.organisation_id))?))
        .await?;
    Ok(web::Json(OutboxStats::from_counts(&counts)))
}

/// Send a failed message again (with fresh tries).
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "Back in the queue", body = OutboxMessage),
        (status = 404, description = "No such message in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not failed (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/outbox/{id}/retry")]
async fn retry_message(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> AppResult<web::Json<OutboxMessage>> {
    caller.require(WRITERS)?;
    let id = id.into_inner().to_string();
    let row = state
        .write(move |conn| {
            queries::find_mail(conn, caller.organisation_id, &id)?
                .ok_or_else(|| AppError::not_found("message"))?;
            if !queries::retry_failed(conn, &id)? {
                return Err(AppError::conflict(
                    "invalid_transition",
                    "only a failed message can be retried",
                ));
            }
            crate::audit::record(
                conn,
                &caller,
                "outbox.retry",
                "outbox_message",
                id.clone(),
                "sent again".to_owned(),
            )?;
            queries::find_mail(conn, caller.organisation_id, &id)?
                .ok_or_else(|| AppError::not_found("message"))
        })
        .await?;
    Ok(web::Json(row.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallListQuery {
    /// Calls due on or after this local date.
    pub from: Option<NaiveDate>,
    /// Calls due on or before this local date.
    pub to: Option<NaiveDate>,
    pub venue_id: Option<uuid::Uuid>,
    /// `booking_promoted`, `session_cancelled`, `session_moved`, `reminder`
    /// or `ticket_reply`.
    pub reason: Option<Kind>,
    /// `open` (default), `done` or `given_up`.
    pub status: Option<CallStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Whom to call, why, their phone number and what to say. Volunteers and
/// instructors see the calls of their venue only.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(CallListQuery),
    responses((status = 200, description = "One page of calls, in the order they arose", body = Page<CallItem>))
)]
#[get("/call-list")]
async fn call_list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<CallListQuery>,
) -> AppResult<web::Json<Page<CallItem>>> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    if let (Some(from), Some(to)) = (q.from, q.to)
        && to < from
    {
        return Err(AppError::invalid_field("to", "must not be before from"));
    }
    let filter = CallFilter {
        from: q.from,
        to: q.to,
        venue: q.venue_id.map(VenueId),
        reason: q.reason,
        status: Some(q.status.unwrap_or(CallStatus::Open)),
        cursor: q.cursor,
    };
    let items = state
        .db(move |conn| calls::list(conn, &caller, &filter, limit))
        .await?;
    Ok(web::Json(pagination::page(items, limit, |c| c.id.clone())))
}

/// Record how a call went: `reached` closes it; `no_answer` and
/// `voicemail` bring it back the next working day (up to the configured
/// tries); `wrong_number` gives up.
#[utoipa::path(
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Call id")),
    request_body = NewOutcome,
    responses(
        (status = 200, description = "Recorded", body = CallItem),
        (status = 404, description = "No such call (in this organisation, or at the caller's venue)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed (`invalid_transition`) or recorded at the same time (`call_changed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/call-list/{id}/outcome")]
async fn record_outcome(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<NewOutcome>,
) -> AppResult<web::Json<CallItem>> {
    let id = id.into_inner().to_string();
    let req = body.0;
    let note =
        optional_text(req.note.as_deref(), 1000).map_err(|m| AppError::invalid_field("note", m))?;
    let max_tries = state.settings.calls.max_tries;
    let item = state
        .write(move |conn| {
            calls::record(conn, &caller, &id, req.outcome, note.as_deref(), max_tries)
        })
        .await?;
    Ok(web::Json(item))
}
