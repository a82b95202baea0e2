//! Devices, loans and their answers.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{devices, loans};
use crate::db::{AccountId, BookingId, DeviceId, LoanId, OrganisationId, ResidentId, VenueId};

crate::db::text_enum::text_enum! {
    /// Where a loaner device is: in the pool, out on a loan, being repaired,
    /// or gone for good.
    pub enum DeviceStatus {
        Available = "available",
        Loaned = "loaned",
        Maintenance = "maintenance",
        Retired = "retired",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = devices)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub organisation_id: OrganisationId,
    pub asset_tag: String,
    pub kind: String,
    pub os: String,
    pub os_version: Option<String>,
    pub model: String,
    pub home_venue_id: VenueId,
    pub status: DeviceStatus,
    pub condition_notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Device {
    pub id: DeviceId,
    pub asset_tag: String,
    /// `smartphone`, `tablet` or `other`.
    pub kind: String,
    pub os: String,
    pub os_version: Option<String>,
    pub model: String,
    pub home_venue_id: VenueId,
    pub status: DeviceStatus,
    pub condition_notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DeviceRow> for Device {
    fn from(r: DeviceRow) -> Self {
        Device {
            id: r.id,
            asset_tag: r.asset_tag,
            kind: r.kind,
            os: r.os,
            os_version: r.os_version,
            model: r.model,
            home_venue_id: r.home_venue_id,
            status: r.status,
            condition_notes: r.condition_notes,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    pub asset_tag: String,
    /// `smartphone`, `tablet` or `other`.
    pub kind: String,
    /// e.g. `android`, `ios`.
    pub os: String,
    pub os_version: Option<String>,
    pub model: String,
    pub home_venue_id: uuid::Uuid,
    pub condition_notes: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceStatusChange {
    /// `available`, `maintenance` or `retired` (`loaned` follows loans).
    pub status: String,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeviceFilter {
    pub venue_id: Option<uuid::Uuid>,
    pub status: Option<String>,
    /// An asset tag, exactly.
    pub asset_tag: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceEvent {
    pub kind: String,
    pub detail: String,
    pub actor_id: Option<AccountId>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = loans)]
pub struct LoanRow {
    pub id: LoanId,
    pub organisation_id: OrganisationId,
    pub device_id: DeviceId,
    pub booking_id: Option<BookingId>,
    pub resident_id: ResidentId,
    pub due_at: NaiveDateTime,
    pub lent_by: AccountId,
    pub lent_at: NaiveDateTime,
    pub returned_at: Option<NaiveDateTime>,
    pub returned_to: Option<AccountId>,
    pub return_condition: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Loan {
    pub id: LoanId,
    pub device_id: DeviceId,
    /// Set for a loan during a session.
    pub booking_id: Option<BookingId>,
    pub resident_id: ResidentId,
    /// When it must be back: the session's end, or the take-home due date.
    pub due_at: DateTime<Utc>,
    pub lent_by: AccountId,
    pub lent_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_condition: Option<String>,
    pub overdue: bool,
}

impl From<LoanRow> for Loan {
    fn from(r: LoanRow) -> Self {
        let overdue = r.returned_at.is_none() && r.due_at < Utc::now().naive_utc();
        Loan {
            id: r.id,
            device_id: r.device_id,
            booking_id: r.booking_id,
            resident_id: r.resident_id,
            due_at: r.due_at.and_utc(),
            lent_by: r.lent_by,
            lent_at: r.lent_at.and_utc(),
            returned_at: r.returned_at.map(|t| t.and_utc()),
            return_condition: r.return_condition,
            overdue,
        }
    }
}

/// Lend a device: for a booking (during its session) or to a resident for
/// days at home (`due_on`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLoan {
    pub device_id: uuid::Uuid,
    pub booking_id: Option<uuid::Uuid>,
    pub resident_id: Option<uuid::Uuid>,
    /// Local date a take-home loan is due back.
    pub due_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLoan {
    /// The device's condition, e.g. "画面に小さな傷".
    pub condition: String,
    /// Send it to maintenance instead of back to the pool.
    #[serde(default)]
    pub needs_maintenance: bool,
}
