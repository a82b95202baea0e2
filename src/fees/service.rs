//! The rules of money: how much may be paid on a booking and refunded of a
//! payment, checked and written one at a time per booking (payments) and per
//! payment (refunds), so parallel requests can never overpay or over-refund.

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;

use super::queries::{self, PaymentRow};
use crate::auth::Caller;
use crate::bookings::{queries as bookings, service as booking_service};
use crate::db::{BookingId, DbConnection, PaymentId, VenueId};
use crate::error::{AppError, AppResult};

pub const MAX_AMOUNT: i64 = 1_000_000;

/// A payment amount: 1 ..= `MAX_AMOUNT` yen.
pub fn amount(value: i64) -> AppResult<i32> {
    if value <= 0 || value > MAX_AMOUNT {
        return Err(AppError::invalid_field(
            "amount",
            format!("must be between 1 and {MAX_AMOUNT} yen"),
        ));
    }
    i32::try_from(value).map_err(|_| AppError::invalid_field("amount", "too large"))
}

/// A payment to take, already parsed.
pub struct PaymentRequest {
    pub booking: BookingId,
    pub amount: i32,
    pub allow_overpayment: bool,
}

/// Takes a cash payment for a booking. Must run inside a write transaction:
/// the booking row is locked before the totals are read, so the check "no
/// more than is due" and the insert happen as one step per booking.
pub fn take_payment(
    conn: &mut DbConnection,
    caller: &Caller,
    tz: Tz,
    request: &PaymentRequest,
) -> AppResult<PaymentRow> {
    let organisation = caller.organisation_id;
    // Scope check first (another organisation's booking is unknown), then
    // the lock, then read the booking again: what we check is what we lock.
    bookings::find(conn, organisation, request.booking)?
        .ok_or_else(|| AppError::invalid_field("booking_id", "no such booking"))?;
    crate::db::locks::booking(conn, request.booking)?;
    let booking = bookings::find(conn, organisation, request.booking)?
        .ok_or_else(|| AppError::invalid_field("booking_id", "no such booking"))?;
    booking_service::may_run(conn, caller, booking.session_id)?;
    if booking.status != crate::bookings::types::BookingStatus::Confirmed {
        return Err(AppError::conflict(
            "invalid_state",
            format!("the booking is {}", booking.status),
        ));
    }
    let (paid, refunded) = queries::booking_totals(conn, booking.id)?;
    let due = i64::from(booking.fee_due_yen) - paid + refunded;
    if i64::from(request.amount) > due && !request.allow_overpayment {
        return Err(AppError::conflict(
            "overpayment",
            format!("{due} yen is due on this booking; send allow_overpayment to take more"),
        ));
    }
    let session = booking_service::session_of(conn, organisation, booking.session_id)?;
    let today = local_today(tz);
    let receipt = queries::next_receipt_number(conn, organisation, queries::fiscal_year(today))?;
    let row = PaymentRow {
        id: PaymentId::generate(),
        organisation_id: organisation,
        booking_id: booking.id,
        session_id: booking.session_id,
        venue_id: session.venue_id,
        resident_id: booking.resident_id,
        kind: "payment".into(),
        amount_yen: request.amount,
        method: "cash".into(),
        receipt_number: receipt,
        refund_of: None,
        reason: None,
        received_by: caller.account_id,
        local_date: today,
        created_at: Utc::now().naive_utc(),
    };
    queries::insert(conn, &row)?;
    crate::audit::record(
        conn,
        caller,
        "payment.create",
        "payment",
        row.id,
        format!(
            "{} yen for {}, receipt {}",
            row.amount_yen, booking.reference, row.receipt_number
        ),
    )?;
    Ok(row)
}

/// Refunds part or all of a payment. Must run inside a write transaction:
/// the booking the payment belongs to is locked before what is left is
/// computed (payments themselves are never written to, not even to lock
/// them), which serialises refunds of a payment and payments of its booking.
pub fn refund(
    conn: &mut DbConnection,
    caller: &Caller,
    tz: Tz,
    id: PaymentId,
    amount: i32,
    reason: &str,
) -> AppResult<PaymentRow> {
    let unlocked = queries::find(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("payment"))?;
    crate::db::locks::booking(conn, unlocked.booking_id)?;
    let payment = queries::find(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("payment"))?;
    if payment.kind != "payment" {
        return Err(AppError::conflict(
            "invalid_state",
            "a refund cannot be refunded",
        ));
    }
    let left = i64::from(payment.amount_yen) - queries::refunded_of(conn, id)?;
    if i64::from(amount) > left {
        return Err(AppError::conflict(
            "refund_exceeds_payment",
            format!("only {left} yen of this payment can still be refunded"),
        ));
    }
    let today = local_today(tz);
    let receipt =
        queries::next_receipt_number(conn, caller.organisation_id, queries::fiscal_year(today))?;
    let row = PaymentRow {
        id: PaymentId::generate(),
        kind: "refund".into(),
        amount_yen: amount,
        receipt_number: receipt,
        refund_of: Some(payment.id),
        reason: Some(reason.to_owned()),
        received_by: caller.account_id,
        local_date: today,
        created_at: Utc::now().naive_utc(),
        ..payment
    };
    queries::insert(conn, &row)?;
    crate::audit::record(
        conn,
        caller,
        "payment.refund",
        "payment",
        row.id,
        format!("refunded {} yen of {}: {reason}", row.amount_yen, id),
    )?;
    Ok(row)
}

fn local_today(tz: Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

/// A venue's payments and refunds of a local day, with each session's
/// course and start: everything for the office, only the sessions they
/// teach for an instructor, nothing for a volunteer.
pub fn cash_sheet_rows(
    conn: &mut DbConnection,
    caller: &Caller,
    venue: VenueId,
    date: NaiveDate,
) -> AppResult<Vec<(PaymentRow, String, chrono::NaiveDateTime)>> {
    crate::venues::queries::find(conn, caller.organisation_id, venue)?
        .ok_or_else(|| AppError::not_found("venue"))?;
    if caller.role == crate::auth::Role::Volunteer {
        crate::auth::access::require_office(caller)?;
    }
    // An instructor's sheet holds the sessions they teach, no others.
    let taught_by = (!crate::auth::access::sees_everything(caller)).then_some(caller.account_id);
    let rows = queries::day_at_venue(conn, caller.organisation_id, venue, date, taught_by)?;
    Ok(rows)
}
