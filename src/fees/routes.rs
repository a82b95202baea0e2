//! `/api/v1/payments`, refunds, balances and the daily cash sheet.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries::{self, PaymentRow};
use super::service;
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::bookings::service as booking_service;
use crate::db::{BookingId, PaymentId, ResidentId, SessionId, VenueId};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::idempotency::{Answer, Idempotent};
use crate::state::AppState;
use crate::validate::required_text;

pub use super::service::MAX_AMOUNT;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(take_payment)
        .service(refund)
        .service(resident_balance)
        .service(session_fees)
        .service(cash_sheet);
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    pub booking_id: Uuid,
    /// Yen, more than 0.
    pub amount: i64,
    /// `cash`.
    pub method: String,
    /// Accept more than is due (e.g. a donation handed over with the fee).
    #[serde(default)]
    pub allow_overpayment: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    pub amount: i64,
    pub reason: String,
}

/// Record a payment for a booking (cash at the venue). Answers the receipt
/// number. Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "fees",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = NewPayment,
    responses(
        (status = 201, description = "Recorded", body = PaymentRow),
        (status = 403, description = "Not an instructor of that session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "More than is due (`overpayment`) or a cancelled booking", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid amount or method, unknown booking", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/payments")]
async fn take_payment(
    state: web::Data<AppState>,
    caller: Caller,
    idempotent: Idempotent,
    body: ApiJson<NewPayment>,
) -> AppResult<HttpResponse> {
    let request = body.0;
    let amount = service::amount(request.amount)?;
    if request.method != "cash" {
        return Err(AppError::invalid_field(
            "method",
            "only cash is accepted for now",
        ));
    }
    let parsed = service::PaymentRequest {
        booking: BookingId(request.booking_id),
        amount,
        allow_overpayment: request.allow_overpayment,
    };
    let org = caller.organisation_id;
    idempotent
        .with_body(&request)?
        .run(&state, org, move |conn| {
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            let row = service::take_payment(conn, &caller, tz, &parsed)?;
            Answer::new(StatusCode::CREATED, &row)
        })
        .await
}

/// Refund part or all of a payment. A refund is its own record with its own
/// receipt number; the payment is never changed.
#[utoipa::path(
    tag = "fees",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    request_body = NewRefund,
    responses(
        (status = 201, description = "Refunded", body = PaymentRow),
        (status = 404, description = "No such payment in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "More than was paid (`refund_exceeds_payment`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid amount or reason", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/payments/{id}/refund")]
async fn refund(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<NewRefund>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let amount = service::amount(body.0.amount)?;
    let reason =
        required_text(&body.0.reason, 500).map_err(|m| AppError::invalid_field("reason", m))?;
    let id = PaymentId(id.into_inner());
    let row = state
        .write(move |conn| {
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            service::refund(conn, &caller, tz, id, amount, &reason)
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    /// Fees of confirmed bookings.
    pub due: i64,
    pub paid: i64,
    pub refunded: i64,
    /// due − paid + refunded: positive means the resident still owes.
    pub balance: i64,
}

/// A resident's balance.
#[utoipa::path(
    tag = "fees",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The balance", body = Balance),
        (status = 404, description = "No such resident in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/residents/{id}/balance")]
async fn resident_balance(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Balance>> {
    let id = ResidentId(id.into_inner());
    let (due, paid, refunded) = state
        .db(move |conn| {
            crate::residents::queries::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("resident"))?;
            if caller.role == crate::auth::Role::Volunteer {
                crate::auth::access::require_office(&caller)?;
            }
            crate::auth::access::require_full(conn, &caller, id)?;
            Ok(queries::resident_totals(conn, id)?)
        })
        .await?;
    Ok(web::Json(Balance {
        due,
        paid,
        refunded,
        balance: due - paid + refunded,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionFees {
    /// Fees of confirmed bookings.
    pub expected: i64,
    pub collected: i64,
    pub refunded: i64,
    /// expected − collected + refunded.
    pub outstanding: i64,
}

/// A session's expected versus collected fees.
#[utoipa::path(
    tag = "fees",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "The totals", body = SessionFees),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sessions/{id}/fees")]
async fn session_fees(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<SessionFees>> {
    let id = SessionId(id.into_inner());
    let (expected, collected, refunded) = state
        .db(move |conn| {
            booking_service::session_of(conn, caller.organisation_id, id)?;
            booking_service::may_run(conn, &caller, id)?;
            Ok(queries::session_totals(conn, id)?)
        })
        .await?;
    Ok(web::Json(SessionFees {
        expected,
        collected,
        refunded,
        outstanding: expected - collected + refunded,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CashSheetQuery {
    /// The local day.
    pub date: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashSheetSession {
    pub session_id: SessionId,
    pub course: String,
    pub starts_at: chrono::DateTime<Utc>,
    pub entries: Vec<PaymentRow>,
    pub collected: i64,
    pub refunded: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashSheet {
    pub venue_id: VenueId,
    pub date: NaiveDate,
    pub sessions: Vec<CashSheetSession>,
    pub payments_total: i64,
    pub refunds_total: i64,
    /// Cash that should be in the box: payments − refunds.
    pub total: i64,
}

/// The day's cash sheet of a venue: every payment and refund by session.
#[utoipa::path(
    tag = "fees",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Venue id"), CashSheetQuery),
    responses(
        (status = 200, description = "The sheet", body = CashSheet),
        (status = 404, description = "No such venue in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/venues/{id}/cash-sheet")]
async fn cash_sheet(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<CashSheetQuery>,
) -> AppResult<web::Json<CashSheet>> {
    let venue = VenueId(id.into_inner());
    let date = query.date;
    let rows = state
        .db(move |conn| service::cash_sheet_rows(conn, &caller, venue, date))
        .await?;
    let mut sessions: Vec<CashSheetSession> = Vec::new();
    for (row, course, starts_at) in rows {
        let signed = i64::from(row.amount_yen);
        let is_refund = row.kind == "refund";
        let entry = match sessions.iter_mut().find(|s| s.session_id == row.session_id) {
            Some(entry) => entry,
            None => {
                sessions.push(CashSheetSession {
                    session_id: row.session_id,
                    course,
                    starts_at: starts_at.and_utc(),
                    entries: Vec::new(),
                    collected: 0,
                    refunded: 0,
                });
                sessions
                    .last_mut()
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("empty cash sheet")))?
            }
        };
        if is_refund {
            entry.refunded += signed;
        } else {
            entry.collected += signed;
        }
        entry.entries.push(row);
    }
    let payments_total = sessions.iter().map(|s| s.collected).sum();
    let refunds_total = sessions.iter().map(|s| s.refunded).sum();
    Ok(web::Json(CashSheet {
        venue_id: venue,
        date,
        sessions,
        payments_total,
        refunds_total,
        total: payments_total - refunds_total,
    }))
}
