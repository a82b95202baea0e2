//! Device and loan queries, scoped to an organisation.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::types::{DeviceFilter, DeviceRow, DeviceStatus, LoanRow};
use crate::db::schema::{device_events, devices, loans};
use crate::db::{AccountId, DbConnection, DeviceId, LoanId, OrganisationId, VenueId};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub fn insert(conn: &mut DbConnection, row: &DeviceRow) -> QueryResult<()> {
    diesel::insert_into(devices::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: DeviceId,
) -> QueryResult<Option<DeviceRow>> {
    devices::table
        .filter(devices::organisation_id.eq(organisation))
        .filter(devices::id.eq(id))
        .select(DeviceRow::as_select())
        .first(conn)
        .optional()
}

pub fn asset_tag_taken(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    tag: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        devices::table
            .filter(devices::organisation_id.eq(organisation))
            .filter(devices::asset_tag.eq(tag)),
    ))
    .get_result(conn)
}

pub fn list(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &DeviceFilter,
    limit: i64,
) -> QueryResult<Vec<DeviceRow>> {
    let mut query = devices::table
        .filter(devices::organisation_id.eq(organisation))
        .select(DeviceRow::as_select())
        .order(devices::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(venue) = filter.venue_id {
        query = query.filter(devices::home_venue_id.eq(VenueId(venue)));
    }
    if let Some(status) = &filter.status {
        query = query.filter(devices::status.eq(status.clone()));
    }
    if let Some(tag) = &filter.asset_tag {
        query = query.filter(devices::asset_tag.eq(tag.trim().to_owned()));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(devices::id.gt(DeviceId(cursor)));
    }
    query.load(conn)
}

/// Changes a device's status only from `from` (a conditional update):
/// `false` when it was not in that state.
pub fn set_status(
    conn: &mut DbConnection,
    id: DeviceId,
    from: &[DeviceStatus],
    to: DeviceStatus,
    notes: Option<&str>,
) -> QueryResult<bool> {
    let from = from.to_vec();
    let target = devices::table
        .filter(devices::id.eq(id))
        .filter(devices::status.eq_any(from));
    let updated = match notes {
        Some(n) => diesel::update(target)
            .set((
                devices::status.eq(to),
                devices::condition_notes.eq(n),
                devices::updated_at.eq(now()),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((devices::status.eq(to), devices::updated_at.eq(now())))
            .execute(conn)?,
    };
    Ok(updated == 1)
}

pub fn record_event(
    conn: &mut DbConnection,
    device: DeviceId,
    kind: &str,
    detail: &str,
    actor: Option<AccountId>,
) -> QueryResult<()> {
    diesel::insert_into(device_events::table)
        .values((
            device_events::id.eq(uuid::Uuid::now_v7().to_string()),
            device_events::device_id.eq(device),
            device_events::kind.eq(kind),
            device_events::detail.eq(detail),
            device_events::actor_id.eq(actor.map(|a| a.to_string())),
            device_events::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// kind, detail, actor, when.
pub type EventRow = (String, String, Option<crate::db::AccountId>, NaiveDateTime);

pub fn events(conn: &mut DbConnection, device: DeviceId) -> QueryResult<Vec<EventRow>> {
    device_events::table
        .filter(device_events::device_id.eq(device))
        .order(device_events::id.asc())
        .select((
            device_events::kind,
            device_events::detail,
            device_events::actor_id,
            device_events::created_at,
        ))
        .load(conn)
}

pub fn insert_loan(conn: &mut DbConnection, row: &LoanRow) -> QueryResult<()> {
    diesel::insert_into(loans::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_loan(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: LoanId,
) -> QueryResult<Option<LoanRow>> {
    loans::table
        .filter(loans::organisation_id.eq(organisation))
        .filter(loans::id.eq(id))
        .select(LoanRow::as_select())
        .first(conn)
        .optional()
}

/// Closes a loan if it is open: `false` when it was already returned.
pub fn close_loan(
    conn: &mut DbConnection,
    id: LoanId,
    by: AccountId,
    condition: &str,
) -> QueryResult<bool> {
    let updated = diesel::update(
        loans::table
            .filter(loans::id.eq(id))
            .filter(loans::returned_at.is_null()),
    )
    .set((
        loans::returned_at.eq(now()),
        loans::returned_to.eq(by),
        loans::return_condition.eq(condition),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Open loans, oldest due first; only overdue ones when asked.
pub fn open_loans(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    overdue_only: bool,
) -> QueryResult<Vec<LoanRow>> {
    let mut query = loans::table
        .filter(loans::organisation_id.eq(organisation))
        .filter(loans::returned_at.is_null())
        .select(LoanRow::as_select())
        .order(loans::due_at.asc())
        .into_boxed();
    if overdue_only {
        query = query.filter(loans::due_at.lt(now()));
    }
    query.load(conn)
}

pub fn loans_of_device(conn: &mut DbConnection, device: DeviceId) -> QueryResult<Vec<LoanRow>> {
    loans::table
        .filter(loans::device_id.eq(device))
        .select(LoanRow::as_select())
        .order(loans::lent_at.asc())
        .load(conn)
}

/// A device of the organisation by its asset tag (as written on it).
pub fn find_by_tag(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    tag: &str,
) -> QueryResult<Option<DeviceRow>> {
    devices::table
        .filter(devices::organisation_id.eq(organisation))
        .filter(devices::asset_tag.eq(tag))
        .select(DeviceRow::as_select())
        .first(conn)
        .optional()
}

/// The open loan of a booking, if a device is out for it.
pub fn open_loan_of_booking(
    conn: &mut DbConnection,
    booking: crate::db::BookingId,
) -> QueryResult<Option<(LoanRow, String)>> {
    loans::table
        .inner_join(devices::table)
        .filter(loans::booking_id.eq(booking))
        .filter(loans::returned_at.is_null())
        .select((LoanRow::as_select(), devices::asset_tag))
        .first(conn)
        .optional()
}
