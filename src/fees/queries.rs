//! Payment queries and the receipt counter.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{bookings, courses, payments, receipt_counters, sessions};
use crate::db::{
    AccountId, BookingId, DbConnection, OrganisationId, PaymentId, ResidentId, SessionId, VenueId,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: PaymentId,
    #[serde(skip)]
    pub organisation_id: OrganisationId,
    pub booking_id: BookingId,
    pub session_id: SessionId,
    pub venue_id: VenueId,
    pub resident_id: ResidentId,
    /// `payment` or `refund`.
    pub kind: String,
    /// Yen, always positive; a refund's direction is its kind.
    #[serde(rename = "amount")]
    pub amount_yen: i32,
    pub method: String,
    pub receipt_number: String,
    /// For a refund: the payment it refunds.
    pub refund_of: Option<PaymentId>,
    pub reason: Option<String>,
    pub received_by: AccountId,
    /// The local day it was taken, for the cash sheet.
    pub local_date: NaiveDate,
    /// UTC instant.
    #[serde(serialize_with = "crate::http::utc::serialize")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: chrono::NaiveDateTime,
}

/// The fiscal year (April–March) a local date belongs to: 2027-03-31 is 2026.
pub fn fiscal_year(date: NaiveDate) -> i32 {
    if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// The next receipt number of the organisation's fiscal year, e.g.
/// `2026-000042`. Serialised on the organisation row.
pub fn next_receipt_number(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    year: i32,
) -> QueryResult<String> {
    crate::db::locks::organisation(conn, organisation)?;
    let last: Option<i32> = receipt_counters::table
        .filter(receipt_counters::organisation_id.eq(organisation))
        .filter(receipt_counters::fiscal_year.eq(year))
        .select(receipt_counters::last_number)
        .first(conn)
        .optional()?;
    let next = last.unwrap_or(0) + 1;
    if last.is_some() {
        diesel::update(
            receipt_counters::table
                .filter(receipt_counters::organisation_id.eq(organisation))
                .filter(receipt_counters::fiscal_year.eq(year)),
        )
        .set(receipt_counters::last_number.eq(next))
        .execute(conn)?;
    } else {
        diesel::insert_into(receipt_counters::table)
            .values((
                receipt_counters::organisation_id.eq(organisation),
                receipt_counters::fiscal_year.eq(year),
                receipt_counters::last_number.eq(next),
            ))
            .execute(conn)?;
    }
    Ok(format!("{year}-{next:06}"))
}

pub fn insert(conn: &mut DbConnection, row: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: PaymentId,
) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .filter(payments::organisation_id.eq(organisation))
        .filter(payments::id.eq(id))
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()
}

/// (paid, refunded) of a booking.
pub fn booking_totals(conn: &mut DbConnection, booking: BookingId) -> QueryResult<(i64, i64)> {
    totals(conn, By::Booking(booking.to_string()))
}

enum By {
    Booking(String),
    Resident(String),
    Session(String),
}

fn totals(conn: &mut DbConnection, by: By) -> QueryResult<(i64, i64)> {
    let mut query = payments::table
        .select((payments::kind, payments::amount_yen))
        .into_boxed();
    query = match by {
        By::Booking(id) => query.filter(payments::booking_id.eq(id)),
        By::Resident(id) => query.filter(payments::resident_id.eq(id)),
        By::Session(id) => query.filter(payments::session_id.eq(id)),
    };
    let rows: Vec<(String, i32)> = query.load(conn)?;
    let paid = rows
        .iter()
        .filter(|(k, _)| k == "payment")
        .map(|(_, a)| i64::from(*a))
        .sum();
    let refunded = rows
        .iter()
        .filter(|(k, _)| k == "refund")
        .map(|(_, a)| i64::from(*a))
        .sum();
    Ok((paid, refunded))
}

/// Refunded so far against one payment.
pub fn refunded_of(conn: &mut DbConnection, payment: PaymentId) -> QueryResult<i64> {
    let amounts: Vec<i32> = payments::table
        .filter(payments::refund_of.eq(payment))
        .select(payments::amount_yen)
        .load(conn)?;
    Ok(amounts.into_iter().map(i64::from).sum())
}

/// (due, paid, refunded) of a resident: fees of their active bookings.
pub fn resident_totals(
    conn: &mut DbConnection,
    resident: ResidentId,
) -> QueryResult<(i64, i64, i64)> {
    let dues: Vec<i32> = bookings::table
        .filter(bookings::resident_id.eq(resident))
        .filter(bookings::status.eq(crate::bookings::types::BookingStatus::Confirmed))
        .select(bookings::fee_due_yen)
        .load(conn)?;
    let (paid, refunded) = totals(conn, By::Resident(resident.to_string()))?;
    Ok((dues.into_iter().map(i64::from).sum(), paid, refunded))
}

/// (expected, collected, refunded) of a session.
pub fn session_totals(conn: &mut DbConnection, session: SessionId) -> QueryResult<(i64, i64, i64)> {
    let dues: Vec<i32> = bookings::table
        .filter(bookings::session_id.eq(session))
        .filter(bookings::status.eq(crate::bookings::types::BookingStatus::Confirmed))
        .select(bookings::fee_due_yen)
        .load(conn)?;
    let (paid, refunded) = totals(conn, By::Session(session.to_string()))?;
    Ok((dues.into_iter().map(i64::from).sum(), paid, refunded))
}

/// Every payment and refund of a venue's local day, with the session's
/// course title and start.
pub fn day_at_venue(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    venue: VenueId,
    date: NaiveDate,
    taught_by: Option<AccountId>,
) -> QueryResult<Vec<(PaymentRow, String, chrono::NaiveDateTime)>> {
    let mut query = payments::table
        .inner_join(sessions::table.on(sessions::id.eq(payments::session_id)))
        .inner_join(courses::table.on(courses::id.eq(sessions::course_id)))
        .filter(payments::organisation_id.eq(organisation))
        .filter(payments::venue_id.eq(venue))
        .filter(payments::local_date.eq(date))
        .order((sessions::starts_at.asc(), payments::id.asc()))
        .select((PaymentRow::as_select(), courses::title, sessions::starts_at))
        .into_boxed();
    if let Some(account) = taught_by {
        query = query.filter(payments::session_id.eq_any(crate::auth::access::taught_by(account)));
    }
    query.load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fiscal_year_runs_april_to_march() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(fiscal_year(d(2026, 4, 1)), 2026);
        assert_eq!(fiscal_year(d(2027, 3, 31)), 2026);
        assert_eq!(fiscal_year(d(2027, 4, 1)), 2027);
        assert_eq!(fiscal_year(d(2026, 12, 31)), 2026);
    }
}
