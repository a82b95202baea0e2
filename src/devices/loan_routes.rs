//! `/api/v1/loans`: lending a device during a session (by the session's
//! instructor or a coordinator) or for days at home (coordinators), and its
//! return. A device is never on two open loans: the device's status moves
//! `available → loaned` by a conditional update, and a partial unique index
//! on open loans backs it up.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use uuid::Uuid;

use super::service;
use super::types::{DeviceStatus, Loan, NewLoan, ReturnLoan};
use crate::auth::Caller;
use crate::db::LoanId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::required_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(lend).service(return_loan).service(list_loans);
}

/// Lend a device: `{device_id, booking_id}` during a session, or
/// `{device_id, resident_id, due_on}` to take home.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    request_body = NewLoan,
    responses(
        (status = 201, description = "Lent", body = Loan),
        (status = 403, description = "Not an instructor of that session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`device_unavailable` (on loan, in maintenance, retired) or `no_loaner_available`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid combination of fields or unknown ids", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loans")]
async fn lend(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewLoan>,
) -> AppResult<HttpResponse> {
    caller.require(service::LENDERS)?;
    let req = body.0;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let loan = state
        .write(move |conn| service::lend(conn, &caller, &req, turnaround).map(Loan::from))
        .await?;
    Ok(HttpResponse::Created().json(loan))
}

/// Take a device back, noting its condition.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Loan id")),
    request_body = ReturnLoan,
    responses(
        (status = 200, description = "Returned", body = Loan),
        (status = 404, description = "No such loan in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already returned (`already_returned`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loans/{id}/return")]
async fn return_loan(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<ReturnLoan>,
) -> AppResult<web::Json<Loan>> {
    caller.require(service::LENDERS)?;
    let condition = required_text(&body.0.condition, 1000)
        .map_err(|m| AppError::invalid_field("condition", m))?;
    let to = if body.0.needs_maintenance {
        DeviceStatus::Maintenance
    } else {
        DeviceStatus::Available
    };
    let id = LoanId(id.into_inner());
    let loan = state
        .write(move |conn| service::return_loan(conn, &caller, id, &condition, to).map(Loan::from))
        .await?;
    Ok(web::Json(loan))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LoanFilter {
    /// Only loans past their due time (sessions that ended, take-home loans
    /// past their date).
    pub overdue: Option<bool>,
}

/// Open loans, earliest due first.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    params(LoanFilter),
    responses((status = 200, description = "Open loans", body = Vec<Loan>))
)]
#[get("/loans")]
async fn list_loans(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<LoanFilter>,
) -> AppResult<web::Json<Vec<Loan>>> {
    let overdue = filter.overdue.unwrap_or(false);
    let rows = state
        .db(move |conn| service::open_loans_for(conn, &caller, overdue))
        .await?;
    Ok(web::Json(rows.into_iter().map(Loan::from).collect()))
}
