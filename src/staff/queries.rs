//! Staff account queries. Every look-up by id is scoped to an organisation.

use chrono::Utc;
use diesel::prelude::*;

use super::types::{AccountRow, NewAccountRow, Role, StaffFilter};
use crate::db::schema::staff_accounts;
use crate::db::{AccountId, DbConnection, OrganisationId, escape_like, lower};

pub fn insert(conn: &mut DbConnection, row: &NewAccountRow<'_>) -> QueryResult<AccountRow> {
    diesel::insert_into(staff_accounts::table)
        .values(row)
        .returning(staff_accounts::all_columns)
        .get_result(conn)
}

/// Login look-up: emails are unique across organisations.
pub use crate::auth::accounts::find_by_email;

pub fn email_taken(conn: &mut DbConnection, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        staff_accounts::table.filter(staff_accounts::email.eq(email)),
    ))
    .get_result(conn)
}

/// An account of `organisation`; another organisation's id is `None`.
pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: AccountId,
) -> QueryResult<Option<AccountRow>> {
    staff_accounts::table
        .filter(staff_accounts::organisation_id.eq(organisation))
        .filter(staff_accounts::id.eq(id))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

/// In creation order; `limit + 1` rows so the caller can tell whether more exist.
pub fn list(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &StaffFilter,
    limit: i64,
) -> QueryResult<Vec<AccountRow>> {
    let mut query = staff_accounts::table
        .filter(staff_accounts::organisation_id.eq(organisation))
        .select(AccountRow::as_select())
        .order(staff_accounts::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(staff_accounts::role.eq(role.as_str()));
    }
    if let Some(active) = filter.active {
        query = query.filter(staff_accounts::active.eq(active));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", escape_like(&q.to_lowercase()));
        query = query.filter(
            lower(staff_accounts::name)
                .like(pattern.clone())
                .escape('\\')
                .or(staff_accounts::email.like(pattern).escape('\\')),
        );
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(staff_accounts::id.gt(AccountId(cursor)));
    }
    query.load(conn)
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = staff_accounts)]
pub struct AccountChanges<'a> {
    pub name: Option<&'a str>,
    pub role: Option<&'a str>,
    pub affiliation: Option<Option<&'a str>>,
    pub venue_id: Option<Option<crate::db::VenueId>>,
    pub active: Option<bool>,
    pub password_hash: Option<&'a str>,
    pub must_change_password: Option<bool>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

pub fn update(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: AccountId,
    mut changes: AccountChanges<'_>,
) -> QueryResult<AccountRow> {
    changes.updated_at = Some(Utc::now().naive_utc());
    diesel::update(
        staff_accounts::table
            .filter(staff_accounts::organisation_id.eq(organisation))
            .filter(staff_accounts::id.eq(id)),
    )
    .set(&changes)
    .returning(staff_accounts::all_columns)
    .get_result(conn)
}

pub fn count_active_admins(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> QueryResult<i64> {
    staff_accounts::table
        .filter(staff_accounts::organisation_id.eq(organisation))
        .filter(staff_accounts::role.eq(Role::Admin.as_str()))
        .filter(staff_accounts::active.eq(true))
        .count()
        .get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }
}
