//! `POST /api/v1/sessions/{id}/cancel`: a session is cancelled together with
//! its bookings, which answers the residents to call. It lives with bookings
//! because that is what it changes; the schedule provides the session rules.

use actix_web::{post, web};
use uuid::Uuid;

use super::service;
use super::types::ResidentToCall;
use crate::auth::{Caller, WRITERS};
use crate::db::SessionId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::schedule::series_routes::context;
use crate::schedule::sessions;
use crate::schedule::types::{CancelSession, Session};
use crate::state::AppState;
use crate::validate::required_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(cancel_session);
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionCancelled {
    pub session: Session,
    /// Every booking cancelled with the session: the residents to call.
    pub residents_to_call: Vec<ResidentToCall>,
}

/// Cancel a session (with a reason) and all its bookings.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = CancelSession,
    responses(
        (status = 200, description = "Cancelled, with the residents whose bookings were cancelled", body = SessionCancelled),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not scheduled (`invalid_state`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/cancel")]
async fn cancel_session(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CancelSession>,
) -> AppResult<web::Json<SessionCancelled>> {
    caller.require(WRITERS)?;
    let reason =
        required_text(&body.0.reason, 500).map_err(|m| AppError::invalid_field("reason", m))?;
    let id = SessionId(id.into_inner());
    let app = state.clone();
    let session = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            sessions::scheduled(conn, &ctx, id)?;
            let residents_to_call = service::cancel_for_session(
                conn,
                ctx.organisation,
                caller.account_id,
                id,
                &reason,
            )?;
            sessions::mark_cancelled(conn, &ctx, id, &reason, residents_to_call.len())?;
            Ok(SessionCancelled {
                session: sessions::one(conn, &ctx, id)?,
                residents_to_call,
            })
        })
        .await?;
    Ok(web::Json(session))
}
