//! Programmes (`/api/v1/programmes`, handlers in `programme_routes`): a prefecture's or the national programme's view
//! over its member organisations. The programme office (the owner
//! organisation) creates it and names its viewers; each member's admin
//! joins it and may withdraw; viewers see the roll-up (`rollup`), never a
//! person.

use std::collections::HashSet;

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::queries::Scope;
use super::rollup::{self, Rollup};
use crate::auth::Caller;
use crate::db::schema::{
    organisations, programme_memberships, programme_viewers, programmes, staff_accounts,
    ticket_categories, topics,
};
use crate::db::{AccountId, DbConnection, OrganisationId, ProgrammeId};
use crate::error::{AppError, AppResult};

/// The default cell size below which people counts are ranges.
pub const DEFAULT_MIN_CELL: i64 = 5;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgramme {
    /// e.g. 岐阜県デジタル活用支援
    pub name: String,
    /// People counts below this are shown as ranges (2–20, default 5).
    pub min_cell_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Programme {
    pub id: ProgrammeId,
    pub name: String,
    pub min_cell_size: i64,
    /// The caller's organisation runs it.
    pub owned: bool,
    /// The caller's organisation is a member now.
    pub member: bool,
    /// The caller may see its roll-up.
    pub viewer: bool,
}

type Row = (ProgrammeId, OrganisationId, String, i32);

fn find(conn: &mut DbConnection, id: ProgrammeId) -> AppResult<Row> {
    programmes::table
        .filter(programmes::id.eq(id))
        .select((
            programmes::id,
            programmes::owner_organisation_id,
            programmes::name,
            programmes::min_cell_size,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("programme"))
}

fn is_viewer(conn: &mut DbConnection, id: ProgrammeId, account: AccountId) -> AppResult<bool> {
    let n: i64 = programme_viewers::table
        .filter(programme_viewers::programme_id.eq(id))
        .filter(programme_viewers::account_id.eq(account))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn is_member(conn: &mut DbConnection, id: ProgrammeId, org: OrganisationId) -> AppResult<bool> {
    let n: i64 = programme_memberships::table
        .filter(programme_memberships::programme_id.eq(id))
        .filter(programme_memberships::organisation_id.eq(org))
        .filter(programme_memberships::withdrawn_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn answer(conn: &mut DbConnection, caller: &Caller, row: Row) -> AppResult<Programme> {
    Ok(Programme {
        owned: row.1 == caller.organisation_id,
        member: is_member(conn, row.0, caller.organisation_id)?,
        viewer: is_viewer(conn, row.0, caller.account_id)?,
        id: row.0,
        name: row.2,
        min_cell_size: i64::from(row.3),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewViewer {
    /// An active account of the programme office.
    pub account_id: uuid::Uuid,
}

/// The period of a roll-up (local dates, inclusive).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RollupQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Computes a programme's roll-up (shared with the console and the
/// benchmark).
pub fn compute(
    conn: &mut DbConnection,
    id: ProgrammeId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Rollup> {
    let row = find(conn, id)?;
    let members: Vec<(OrganisationId, String)> = programme_memberships::table
        .inner_join(
            organisations::table.on(organisations::id.eq(programme_memberships::organisation_id)),
        )
        .filter(programme_memberships::programme_id.eq(id))
        .filter(programme_memberships::withdrawn_at.is_null())
        .order(organisations::name.asc())
        .select((organisations::id, organisations::name))
        .load(conn)?;
    let mut figures = Vec::with_capacity(members.len());
    for (org, name) in members {
        let s = super::routes::compute(conn, org, from, to, &Scope::default())?;
        figures.push((org, name, s));
    }
    let shared_topics: HashSet<String> = topics::table
        .filter(topics::organisation_id.is_null())
        .select(topics::code)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let shared_categories: HashSet<String> = ticket_categories::table
        .filter(ticket_categories::organisation_id.is_null())
        .select(ticket_categories::code)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    Ok(rollup::build(
        from,
        to,
        i64::from(row.3),
        &figures,
        &shared_topics,
        &shared_categories,
    ))
}

/// Creates a programme run by the caller's organisation; the creator is its
/// first viewer. Call inside a write transaction.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    name: &str,
    k: i64,
) -> AppResult<Programme> {
    let id = ProgrammeId::generate();
    let now = Utc::now().naive_utc();
    diesel::insert_into(programmes::table)
        .values((
            programmes::id.eq(id),
            programmes::owner_organisation_id.eq(caller.organisation_id),
            programmes::name.eq(name),
            programmes::min_cell_size.eq(k as i32),
            programmes::created_at.eq(now),
        ))
        .execute(conn)?;
    diesel::insert_into(programme_viewers::table)
        .values((
            programme_viewers::programme_id.eq(id),
            programme_viewers::account_id.eq(caller.account_id),
            programme_viewers::granted_at.eq(now),
        ))
        .execute(conn)?;
    crate::audit::record(
        conn,
        caller,
        "programme.create",
        "programme",
        id.to_string(),
        format!("created programme {name}"),
    )?;
    let row = find(conn, id)?;
    answer(conn, caller, row)
}

/// Programmes the caller's organisation runs or belongs to, or the caller views.
pub fn list(conn: &mut DbConnection, caller: &Caller) -> AppResult<Vec<Programme>> {
    let rows: Vec<Row> = programmes::table
        .left_join(
            programme_memberships::table.on(programme_memberships::programme_id
                .eq(programmes::id)
                .and(programme_memberships::organisation_id.eq(caller.organisation_id))),
        )
        .left_join(
            programme_viewers::table.on(programme_viewers::programme_id
                .eq(programmes::id)
                .and(programme_viewers::account_id.eq(caller.account_id))),
        )
        .filter(
            programmes::owner_organisation_id
                .eq(caller.organisation_id)
                .or(programme_memberships::organisation_id.is_not_null())
                .or(programme_viewers::account_id.is_not_null()),
        )
        .select((
            programmes::id,
            programmes::owner_organisation_id,
            programmes::name,
            programmes::min_cell_size,
        ))
        .distinct()
        .load(conn)?;
    rows.into_iter().map(|r| answer(conn, caller, r)).collect()
}

/// Lets an account of the programme office see the roll-up.
pub fn add_viewer(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ProgrammeId,
    account: AccountId,
) -> AppResult<Programme> {
    let row = find(conn, id)?;
    if row.1 != caller.organisation_id {
        return Err(AppError::forbidden(
            "forbidden",
            "only the programme office names its viewers",
        ));
    }
    let ok: i64 = staff_accounts::table
        .filter(staff_accounts::id.eq(account))
        .filter(staff_accounts::organisation_id.eq(caller.organisation_id))
        .filter(staff_accounts::active.eq(true))
        .count()
        .get_result(conn)?;
    if ok == 0 {
        return Err(AppError::invalid_field(
            "account_id",
            "not an active account of the programme office",
        ));
    }
    if !is_viewer(conn, id, account)? {
        diesel::insert_into(programme_viewers::table)
            .values((
                programme_viewers::programme_id.eq(id),
                programme_viewers::account_id.eq(account),
                programme_viewers::granted_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        crate::audit::record(
            conn,
            caller,
            "programme.viewer",
            "programme",
            id.to_string(),
            format!("viewer {account} added"),
        )?;
    }
    answer(conn, caller, row)
}

/// The caller's organisation joins (again).
pub fn join(conn: &mut DbConnection, caller: &Caller, id: ProgrammeId) -> AppResult<Programme> {
    let row = find(conn, id)?;
    if !is_member(conn, id, caller.organisation_id)? {
        let now = Utc::now().naive_utc();
        diesel::delete(
            programme_memberships::table
                .filter(programme_memberships::programme_id.eq(id))
                .filter(programme_memberships::organisation_id.eq(caller.organisation_id)),
        )
        .execute(conn)?;
        diesel::insert_into(programme_memberships::table)
            .values((
                programme_memberships::programme_id.eq(id),
                programme_memberships::organisation_id.eq(caller.organisation_id),
                programme_memberships::granted_by.eq(caller.account_id),
                programme_memberships::granted_at.eq(now),
            ))
            .execute(conn)?;
        crate::audit::record(
            conn,
            caller,
            "programme.join",
            "programme",
            id.to_string(),
            format!("joined {}", row.2),
        )?;
    }
    answer(conn, caller, row)
}

/// The caller's organisation withdraws.
pub fn withdraw(conn: &mut DbConnection, caller: &Caller, id: ProgrammeId) -> AppResult<Programme> {
    let row = find(conn, id)?;
    let n = diesel::update(
        programme_memberships::table
            .filter(programme_memberships::programme_id.eq(id))
            .filter(programme_memberships::organisation_id.eq(caller.organisation_id))
            .filter(programme_memberships::withdrawn_at.is_null()),
    )
    .set(programme_memberships::withdrawn_at.eq(Utc::now().naive_utc()))
    .execute(conn)?;
    if n > 0 {
        crate::audit::record(
            conn,
            caller,
            "programme.withdraw",
            "programme",
            id.to_string(),
            format!("withdrew from {}", row.2),
        )?;
    }
    answer(conn, caller, row)
}

/// The roll-up for one of the programme's viewers (403 for anyone else).
pub fn summary_for(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ProgrammeId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Rollup> {
    find(conn, id)?;
    if !is_viewer(conn, id, caller.account_id)? {
        return Err(AppError::forbidden(
            "forbidden",
            "only the programme's viewers see its roll-up",
        ));
    }
    compute(conn, id, from, to)
}
