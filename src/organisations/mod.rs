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
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    /// IANA timezone in which sessions are shown (default Asia/Tokyo).
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl From<OrganisationRow> for Organisation {
    fn from(row: OrganisationRow) -> Self {
        Organisation {
            id: row.id,
            name: row.name,
            timezone: row.timezone,
            created_at: row.created_at.and_utc(),
        }
    }
}
