//! Resident queries, scoped to an organisation.

use chrono::Utc;
use diesel::prelude::*;

use super::names;
use super::types::{ResidentChanges, ResidentFilter, ResidentRow};
use crate::db::schema::{bookings, residents};
use crate::db::{DbConnection, OrganisationId, ResidentId, escape_like};

pub fn insert(conn: &mut DbConnection, row: &ResidentRow) -> QueryResult<()> {
    diesel::insert_into(residents::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: ResidentId,
) -> QueryResult<Option<ResidentRow>> {
    residents::table
        .filter(residents::organisation_id.eq(organisation))
        .filter(residents::id.eq(id))
        .select(ResidentRow::as_select())
        .first(conn)
        .optional()
}

pub fn update(
    conn: &mut DbConnection,
    id: ResidentId,
    mut changes: ResidentChanges,
) -> QueryResult<ResidentRow> {
    changes.updated_at = Some(Utc::now().naive_utc());
    diesel::update(residents::table.filter(residents::id.eq(id)))
        .set(&changes)
        .returning(residents::all_columns)
        .get_result(conn)
}

/// Residents who may be the same person: the same phone, or the same kana
/// and birth year (merged records excluded).
pub fn possible_duplicates(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    phone: Option<&str>,
    kana_folded: &str,
    birth_year: Option<i32>,
) -> QueryResult<Vec<ResidentRow>> {
    let base = residents::table
        .filter(residents::organisation_id.eq(organisation))
        .filter(residents::merged_into.is_null())
        .select(ResidentRow::as_select());
    let mut found: Vec<ResidentRow> = match phone {
        Some(phone) => base.filter(residents::phone.eq(phone)).load(conn)?,
        None => Vec::new(),
    };
    if let Some(year) = birth_year {
        let same_year: Vec<ResidentRow> = base.filter(residents::birth_year.eq(year)).load(conn)?;
        for r in same_year {
            let kana = names::fold(&format!("{}{}", r.family_name_kana, r.given_name_kana));
            if kana == kana_folded && !found.iter().any(|f| f.id == r.id) {
                found.push(r);
            }
        }
    }
    Ok(found)
}

pub fn list(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &ResidentFilter,
    limit: i64,
) -> QueryResult<Vec<ResidentRow>> {
    let mut query = residents::table
        .filter(residents::organisation_id.eq(organisation))
        .filter(residents::merged_into.is_null())
        .select(ResidentRow::as_select())
        .order(residents::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let folded = names::fold(q);
        let digits: String = names::fold(q)
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let text = residents::search_text
            .like(format!("%{}%", escape_like(&folded)))
            .escape('\\');
        if digits.len() >= 3
            && digits.len() == folded.chars().filter(|c| *c != '-' && *c != '+').count()
        {
            query = query.filter(text.or(residents::phone.like(format!("%{digits}%"))));
        } else {
            query = query.filter(text);
        }
    }
    if let Some(district) = &filter.district {
        query = query.filter(residents::district.eq(district.clone()));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(residents::id.gt(ResidentId(cursor)));
    }
    query.load(conn)
}

/// Sessions attended (present or late) and no-shows.
pub fn attendance_counts(conn: &mut DbConnection, id: ResidentId) -> QueryResult<(i64, i64)> {
    let marks: Vec<Option<String>> = bookings::table
        .filter(bookings::resident_id.eq(id))
        .filter(bookings::attendance.is_not_null())
        .select(bookings::attendance)
        .load(conn)?;
    let attended = marks
        .iter()
        .filter(|m| matches!(m.as_deref(), Some("present" | "late")))
        .count() as i64;
    let no_shows = marks
        .iter()
        .filter(|m| m.as_deref() == Some("no_show"))
        .count() as i64;
    Ok((attended, no_shows))
}

/// Fills the survivor's missing phone, email, birth year and district from
/// the duplicate (a merge).
pub fn fill_from(
    conn: &mut DbConnection,
    survivor: &ResidentRow,
    duplicate: &ResidentRow,
) -> QueryResult<()> {
    diesel::update(residents::table.filter(residents::id.eq(survivor.id)))
        .set((
            residents::phone.eq(survivor.phone.clone().or(duplicate.phone.clone())),
            residents::email.eq(survivor.email.clone().or(duplicate.email.clone())),
            residents::birth_year.eq(survivor.birth_year.or(duplicate.birth_year)),
            residents::district.eq(survivor.district.clone().or(duplicate.district.clone())),
            residents::updated_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Marks a record as merged into another (kept for history, hidden from search).
pub fn mark_merged(
    conn: &mut DbConnection,
    duplicate: ResidentId,
    survivor: ResidentId,
) -> QueryResult<()> {
    diesel::update(residents::table.filter(residents::id.eq(duplicate)))
        .set((
            residents::merged_into.eq(survivor),
            residents::updated_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}
