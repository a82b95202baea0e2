//! Organisations: the tenants. Every other row belongs to one.

pub mod queries;
pub mod routes;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::OrganisationId;
use crate::db::schema::organisations;

pub const DEFAULT_TIMEZONE: &str = "Asia/Tokyo";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub id: OrganisationId,
    pub name: String,
    pub timezone: String,
    pub created_at: NaiveDateTime,
    pub contact_phone: Option<String>,
    pub mail_signature: Option<String>,
    pub reminder_rules: String,
    pub retention_months: Option<i32>,
    pub lottery_no_shows_last: bool,
}

/// What a PATCH of the organisation may change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = organisations)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub contact_phone: Option<Option<String>>,
    pub mail_signature: Option<Option<String>>,
    pub reminder_rules: Option<String>,
    pub retention_months: Option<Option<i32>>,
    pub lottery_no_shows_last: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    /// IANA timezone in which sessions are shown (default Asia/Tokyo).
    pub timezone: String,
    /// The number residents call, printed in every letter.
    pub contact_phone: Option<String>,
    /// Closing lines of every letter (e.g. the centre's name and hours).
    pub mail_signature: Option<String>,
    /// When reminders go out: `24h` (hours before), `1d@10:00` (the day
    /// before at 10:00 local).
    pub reminders: Vec<String>,
    /// Residents with no activity for this many months are erased by a job
    /// (their anonymous counts stay in the reports); `null`: never.
    pub retention_months: Option<i32>,
    /// In a lottery, residents with recent no-shows (as the booking warning
    /// counts them) are drawn after everyone else.
    pub lottery_no_shows_last: bool,
    pub created_at: DateTime<Utc>,
}

impl From<OrganisationRow> for Organisation {
    fn from(row: OrganisationRow) -> Self {
        Organisation {
            id: row.id,
            name: row.name,
            timezone: row.timezone,
            contact_phone: row.contact_phone,
            mail_signature: row.mail_signature,
            reminders: row
                .reminder_rules
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            retention_months: row.retention_months,
            lottery_no_shows_last: row.lottery_no_shows_last,
            created_at: row.created_at.and_utc(),
        }
    }
}
