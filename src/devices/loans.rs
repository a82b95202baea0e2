//! `/api/v1/loans`: lending a device during a session (by the session's
//! instructor or a coordinator) or for days at home (coordinators), and its
//! return. A device is never on two open loans: the device's status moves
//! `available → loaned` by a conditional update, and a partial unique index
//! on open loans backs it up.

use actix_web::{HttpResponse, get, post, web};
use chrono::{NaiveTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Deserialize;
use uuid::Uuid;

use super::queries;
use super::types::{Loan, LoanRow, NewLoan, ReturnLoan};
use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::auth::Role;
use crate::auth::WRITERS;
use crate::bookings::loaners as pool;
use crate::bookings::queries as bookings;
use crate::bookings::service as booking_service;
use crate::db::{BookingId, DeviceId, LoanId, ResidentId, write_tx};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::required_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(lend).service(return_loan).service(list_loans);
}

/// Who may lend and take back devices (instructors only for their sessions).
const LENDERS: &[Role] = &[Role::Admin, Role::Coordinator, Role::Instructor];

fn unavailable(status: &str) -> AppError {
    AppError::conflict(
        "device_unavailable",
        format!("the device is {status}: choose another one"),
    )
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
    caller.require(LENDERS)?;
    let req = body.0;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let loan = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let device = queries::find(conn, caller.organisation_id, DeviceId(req.device_id))?
                    .ok_or_else(|| AppError::invalid_field("device_id", "no such device"))?;
                if device.status != "available" {
                    return Err(unavailable(&device.status));
                }
                let now = Utc::now().naive_utc();
                let (booking_id, resident_id, due_at) =
                    match (req.booking_id, req.resident_id, req.due_on) {
                        (Some(booking), None, None) => {
                            let booking =
                                bookings::find(conn, caller.organisation_id, BookingId(booking))?
                                    .ok_or_else(|| {
                                    AppError::invalid_field("booking_id", "no such booking")
                                })?;
                            booking_service::may_run(conn, &caller, booking.session_id)?;
                            if booking.status != "confirmed" {
                                return Err(AppError::conflict(
                                    "invalid_state",
                                    format!("the booking is {}", booking.status),
                                ));
                            }
                            let session = booking_service::session_of(
                                conn,
                                caller.organisation_id,
                                booking.session_id,
                            )?;
                            match pool::status_of(conn, booking.id)?.as_deref() {
                                Some("reserved") => pool::set_status(conn, booking.id, "out")?,
                                Some("out") => {
                                    return Err(AppError::conflict(
                                        "already_lent",
                                        "this booking already has a device",
                                    ));
                                }
                                _ if pool::available_for(conn, &session, turnaround)? => {
                                    pool::record(conn, &session, booking.id, "out", turnaround)?
                                }
                                _ => {
                                    return Err(AppError::conflict(
                                        "no_loaner_available",
                                        "every device of this venue is reserved for this time",
                                    ));
                                }
                            }
                            (
                                Some(booking.id.to_string()),
                                booking.resident_id.to_string(),
                                session.ends_at,
                            )
                        }
                        (None, Some(resident), Some(due_on)) => {
                            caller.require(WRITERS)?;
                            crate::validate::within_horizon(due_on)
                                .map_err(|m| AppError::invalid_field("due_on", m))?;
                            let resident = crate::residents::queries::find(
                                conn,
                                caller.organisation_id,
                                ResidentId(resident),
                            )?
                            .ok_or_else(|| {
                                AppError::invalid_field("resident_id", "no such resident")
                            })?;
                            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
                            let due_at = crate::calendar::to_utc(
                                &tz,
                                due_on.and_time(
                                    NaiveTime::from_hms_opt(23, 59, 0).unwrap_or(NaiveTime::MIN),
                                ),
                            )
                            .naive_utc();
                            if due_at <= now {
                                return Err(AppError::invalid_field(
                                    "due_on",
                                    "must not be in the past",
                                ));
                            }
                            if !pool::available_between(conn, device.home_venue_id, now, due_at)? {
                                return Err(AppError::conflict(
                                    "no_loaner_available",
                                    "the venue's devices are reserved for sessions in that period",
                                ));
                            }
                            (None, resident.id.to_string(), due_at)
                        }
                        _ => {
                            return Err(AppError::invalid_field(
                                "booking_id",
                                "give either booking_id, or resident_id with due_on",
                            ));
                        }
                    };
                if !queries::set_status(conn, device.id, &["available"], "loaned", None)? {
                    return Err(unavailable(&device.status));
                }
                let row = LoanRow {
                    id: LoanId::generate(),
                    organisation_id: caller.organisation_id,
                    device_id: device.id,
                    booking_id,
                    resident_id,
                    due_at,
                    lent_by: caller.account_id.to_string(),
                    lent_at: now,
                    returned_at: None,
                    returned_to: None,
                    return_condition: None,
                };
                queries::insert_loan(conn, &row).map_err(|e| match e {
                    DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                        unavailable("on loan")
                    }
                    other => other.into(),
                })?;
                queries::record_event(
                    conn,
                    device.id,
                    "loaned",
                    &format!("lent until {}", due_at),
                    Some(caller.account_id),
                )?;
                audit::record(
                    conn,
                    AuditEntry {
                        organisation_id: caller.organisation_id,
                        actor_id: Some(caller.account_id),
                        action: "loan.create",
                        entity: "loan",
                        entity_id: row.id.to_string(),
                        summary: format!("lent {}", device.asset_tag),
                    },
                )?;
                Ok(Loan::from(row))
            })
        })
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
    caller.require(LENDERS)?;
    let condition = required_text(&body.0.condition, 1000)
        .map_err(|m| AppError::invalid_field("condition", m))?;
    let to = if body.0.needs_maintenance {
        "maintenance"
    } else {
        "available"
    };
    let id = LoanId(id.into_inner());
    let loan = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let loan = queries::find_loan(conn, caller.organisation_id, id)?
                    .ok_or_else(|| AppError::not_found("loan"))?;
                match &loan.booking_id {
                    Some(b) => {
                        let booking: BookingId = BookingId(b.parse().map_err(anyhow::Error::from)?);
                        let row = bookings::find(conn, caller.organisation_id, booking)?
                            .ok_or_else(|| AppError::not_found("booking"))?;
                        booking_service::may_run(conn, &caller, row.session_id)?;
                        pool::set_status(conn, booking, "returned")?;
                    }
                    None => caller.require(WRITERS)?,
                }
                if !queries::close_loan(conn, id, caller.account_id, &condition)? {
                    return Err(AppError::conflict(
                        "already_returned",
                        "this loan was already returned",
                    ));
                }
                queries::set_status(conn, loan.device_id, &["loaned"], to, Some(&condition))?;
                if to == "available"
                    && let Some(device) =
                        queries::find(conn, caller.organisation_id, loan.device_id)?
                {
                    pool::promote_waiting(conn, device.home_venue_id)?;
                }
                queries::record_event(
                    conn,
                    loan.device_id,
                    "returned",
                    &format!("returned: {condition}"),
                    Some(caller.account_id),
                )?;
                audit::record(
                    conn,
                    AuditEntry {
                        organisation_id: caller.organisation_id,
                        actor_id: Some(caller.account_id),
                        action: "loan.return",
                        entity: "loan",
                        entity_id: id.to_string(),
                        summary: format!("returned to {to}"),
                    },
                )?;
                Ok(Loan::from(
                    queries::find_loan(conn, caller.organisation_id, id)?
                        .ok_or_else(|| AppError::not_found("loan"))?,
                ))
            })
        })
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
        .db(move |conn| {
            let rows = queries::open_loans(conn, caller.organisation_id, overdue)?;
            if crate::auth::access::sees_everything(&caller) {
                return Ok(rows);
            }
            if caller.role != Role::Instructor {
                crate::auth::access::require_office(&caller)?;
            }
            // An instructor follows the loans they lent and those of the
            // sessions they teach.
            let ids: Vec<BookingId> = rows
                .iter()
                .filter_map(|l| l.booking_id.as_deref()?.parse().ok().map(BookingId))
                .collect();
            let mine = bookings::in_sessions_taught_by(conn, &ids, caller.account_id)?;
            let me = caller.account_id.to_string();
            Ok(rows
                .into_iter()
                .filter(|l| {
                    l.lent_by == me || l.booking_id.as_ref().is_some_and(|b| mine.contains(b))
                })
                .collect())
        })
        .await?;
    Ok(web::Json(rows.into_iter().map(Loan::from).collect()))
}
