//! Organisation queries.

use diesel::prelude::*;

use super::{DEFAULT_TIMEZONE, OrganisationRow};
use crate::db::schema::organisations;
use crate::db::{DbConnection, OrganisationId};

pub fn get(conn: &mut DbConnection, id: OrganisationId) -> QueryResult<OrganisationRow> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
}

pub fn find_by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .filter(organisations::name.eq(name))
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    organisations::table.count().get_result(conn)
}

pub fn insert(conn: &mut DbConnection, name: &str) -> QueryResult<OrganisationRow> {
    let row = OrganisationRow {
        id: OrganisationId::generate(),
        name: name.to_owned(),
        timezone: DEFAULT_TIMEZONE.to_owned(),
        created_at: chrono::Utc::now().naive_utc(),
    };
    diesel::insert_into(organisations::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// Takes the organisation's row lock until the transaction ends (a no-op
/// update), serialising checks such as "keep at least one active admin"
/// that span several rows. SQLite's `BEGIN IMMEDIATE` already serialises.
pub fn lock(conn: &mut DbConnection, id: OrganisationId) -> QueryResult<()> {
    diesel::update(organisations::table.find(id))
        .set(organisations::name.eq(organisations::name))
        .execute(conn)
        .map(|_| ())
}
