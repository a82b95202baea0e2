//! `/api/v1/series/{id}/enrolments` and `/api/v1/enrolments/{id}/cancel`;
//! the rules are in `bookings::enrolment`.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::enrolment::{self, Enrolment};
use super::types::Channel;
use crate::auth::{Caller, WRITERS};
use crate::db::SeriesId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::required_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(enrol).service(cancel_enrolment);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    pub resident_id: Uuid,
    pub channel: Channel,
    #[serde(default)]
    pub needs_loaner: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelEnrolment {
    pub reason: String,
}

/// Enrol a resident in every remaining session of a series: all seats or none.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Series id")),
    request_body = NewEnrolment,
    responses(
        (status = 201, description = "Enrolled, with one booking per session", body = Enrolment),
        (status = 404, description = "No such series in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A session is full (`session_full`), already booked, or none remain (`nothing_to_enrol`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/series/{id}/enrolments")]
async fn enrol(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<NewEnrolment>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let series = SeriesId(id.into_inner());
    let req = body.0;
    let enrolment = state
        .write(move |conn| {
            enrolment::enrol(
                conn,
                &caller,
                series,
                req.resident_id,
                req.channel,
                req.needs_loaner,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(enrolment))
}

/// Cancel an enrolment and its future bookings.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Enrolment id")),
    request_body = CancelEnrolment,
    responses(
        (status = 200, description = "Cancelled, with the bookings cancelled", body = Enrolment),
        (status = 404, description = "No such enrolment in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/enrolments/{id}/cancel")]
async fn cancel_enrolment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CancelEnrolment>,
) -> AppResult<web::Json<Enrolment>> {
    caller.require(WRITERS)?;
    let reason =
        required_text(&body.0.reason, 500).map_err(|m| AppError::invalid_field("reason", m))?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let id = id.into_inner();
    let enrolment = state
        .write(move |conn| enrolment::cancel(conn, &caller, id, &reason, turnaround))
        .await?;
    Ok(web::Json(enrolment))
}
