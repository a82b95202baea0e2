//! Venue queries, scoped to an organisation.

use chrono::Utc;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::types::{VenueChanges, VenueFilter, VenueRow};
use crate::db::schema::venues;
use crate::db::{DbConnection, OrganisationId, VenueId, escape_like, lower};
use crate::error::{AppError, AppResult};

fn name_taken(e: DieselError) -> AppError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::conflict("venue_name_taken", "another venue already has this name")
        }
        other => other.into(),
    }
}

pub fn insert(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    c: VenueChanges,
) -> AppResult<VenueRow> {
    let now = Utc::now().naive_utc();
    let row = VenueRow {
        id: VenueId::generate(),
        organisation_id: organisation,
        name: c.name.unwrap_or_default(),
        address: c.address.flatten(),
        room: c.room.flatten(),
        default_capacity: c.default_capacity.unwrap_or(1),
        phone: c.phone.flatten(),
        accessibility_notes: c.accessibility_notes.flatten(),
        online_url: c.online_url.flatten(),
        active: true,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(venues::table)
        .values(&row)
        .execute(conn)
        .map_err(name_taken)?;
    Ok(row)
}

pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: VenueId,
) -> QueryResult<Option<VenueRow>> {
    venues::table
        .filter(venues::organisation_id.eq(organisation))
        .filter(venues::id.eq(id))
        .select(VenueRow::as_select())
        .first(conn)
        .optional()
}

pub fn update(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: VenueId,
    mut changes: VenueChanges,
) -> AppResult<Option<VenueRow>> {
    changes.updated_at = Some(Utc::now().naive_utc());
    diesel::update(
        venues::table
            .filter(venues::organisation_id.eq(organisation))
            .filter(venues::id.eq(id)),
    )
    .set(&changes)
    .returning(venues::all_columns)
    .get_result(conn)
    .optional()
    .map_err(name_taken)
}

pub fn list(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &VenueFilter,
    limit: i64,
) -> QueryResult<Vec<VenueRow>> {
    let mut query = venues::table
        .filter(venues::organisation_id.eq(organisation))
        .select(VenueRow::as_select())
        .order(venues::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(active) = filter.active {
        query = query.filter(venues::active.eq(active));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", escape_like(&q.to_lowercase()));
        query = query.filter(
            lower(venues::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(venues::address.assume_not_null())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(venues::id.gt(VenueId(cursor)));
    }
    query.load(conn)
}
