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
        contact_phone: None,
        mail_signature: None,
        reminder_rules: "1d@10:00".to_owned(),
        retention_months: None,
        lottery_no_shows_last: false,
    };
    diesel::insert_into(organisations::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

pub fn update(
    conn: &mut DbConnection,
    id: OrganisationId,
    mut changes: super::OrganisationChanges,
) -> Result<OrganisationRow, crate::error::AppError> {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    let current = get(conn, id)?;
    // Always set the name, so an empty change is still a valid statement.
    changes.name = Some(changes.name.unwrap_or(current.name));
    diesel::update(organisations::table.find(id))
        .set(&changes)
        .returning(organisations::all_columns)
        .get_result(conn)
        .map_err(|e| match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                crate::error::AppError::conflict(
                    "organisation_name_taken",
                    "another organisation has this name",
                )
            }
            other => other.into(),
        })
}

/// The organisation's timezone, parsed (Asia/Tokyo if the stored one is unknown).
pub fn timezone(conn: &mut DbConnection, id: OrganisationId) -> QueryResult<chrono_tz::Tz> {
    let name: String = organisations::table
        .find(id)
        .select(organisations::timezone)
        .first(conn)?;
    Ok(name.parse().unwrap_or(chrono_tz::Asia::Tokyo))
}
