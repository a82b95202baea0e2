//! The staff account row as authentication reads it (login, token checks),
//! and the lookup by email. Staff management (`crate::staff`) builds on it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::roles::Role;
use crate::db::schema::staff_accounts;
use crate::db::{AccountId, DbConnection, OrganisationId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_accounts)]
pub struct AccountRow {
    pub id: AccountId,
    pub organisation_id: OrganisationId,
    pub email: String,
    pub name: String,
    pub role: String,
    pub affiliation: Option<String>,
    pub password_hash: String,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The venue they work at (volunteers see its call list).
    pub venue_id: Option<crate::db::VenueId>,
}

impl AccountRow {
    pub fn role(&self) -> anyhow::Result<Role> {
        self.role.parse().map_err(anyhow::Error::msg)
    }
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<AccountRow>> {
    staff_accounts::table
        .filter(staff_accounts::email.eq(email))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}
