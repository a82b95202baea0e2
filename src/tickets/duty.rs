//! Volunteers' skills and weekly duty roster, and automatic assignment:
//! among active volunteers with the ticket's category in their skills and
//! on duty now (weekly roster, organisation time), the one who least
//! recently got a ticket. Rules and queries; the handlers are in
//! `duty_routes`.

use chrono::{Datelike, NaiveDateTime, NaiveTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service;
use crate::auth::Caller;
use crate::calendar::WEEKDAYS;
use crate::db::schema::{staff_accounts, volunteer_duty, volunteer_rotation, volunteer_skills};
use crate::db::{AccountId, DbConnection, TicketId};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DutySlot {
    /// `monday` … `sunday`
    pub weekday: String,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Duty {
    /// Ticket category codes the volunteer handles.
    pub skills: Vec<String>,
    /// When they are on duty each week.
    pub roster: Vec<DutySlot>,
}

/// A roster slot as stored: weekday (Monday = 0), starts, ends.
pub type Slot = (i32, NaiveTime, NaiveTime);

/// Picks the volunteer for a category at `now_local`; `None` if nobody fits.
pub fn pick(
    conn: &mut DbConnection,
    caller: &Caller,
    category: &str,
    now_local: NaiveDateTime,
) -> QueryResult<Option<AccountId>> {
    let weekday = now_local.weekday().num_days_from_monday() as i32;
    let time = now_local.time();
    let candidates: Vec<String> = staff_accounts::table
        .inner_join(volunteer_skills::table.on(volunteer_skills::account_id.eq(staff_accounts::id)))
        .inner_join(volunteer_duty::table.on(volunteer_duty::account_id.eq(staff_accounts::id)))
        .filter(staff_accounts::organisation_id.eq(caller.organisation_id))
        .filter(staff_accounts::active.eq(true))
        .filter(staff_accounts::role.eq("volunteer"))
        .filter(volunteer_skills::category.eq(category))
        .filter(volunteer_duty::weekday.eq(weekday))
        .filter(volunteer_duty::starts.le(time))
        .filter(volunteer_duty::ends.gt(time))
        .select(staff_accounts::id)
        .load(conn)?;
    let mut best: Option<(Option<NaiveDateTime>, String)> = None;
    for id in candidates {
        let last: Option<NaiveDateTime> = volunteer_rotation::table
            .filter(volunteer_rotation::account_id.eq(&id))
            .select(volunteer_rotation::last_assigned_at)
            .first(conn)
            .optional()?;
        // Never assigned (None) sorts first; then the longest wait; ties by id.
        let better = match &best {
            None => true,
            Some((best_last, best_id)) => (last, &id) < (*best_last, best_id),
        };
        if better {
            best = Some((last, id));
        }
    }
    Ok(best.and_then(|(_, id)| id.parse().ok()).map(AccountId))
}

pub fn rotate(conn: &mut DbConnection, account: AccountId) -> QueryResult<()> {
    let now = Utc::now().naive_utc();
    let updated = diesel::update(
        volunteer_rotation::table.filter(volunteer_rotation::account_id.eq(account)),
    )
    .set(volunteer_rotation::last_assigned_at.eq(now))
    .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(volunteer_rotation::table)
            .values((
                volunteer_rotation::account_id.eq(account),
                volunteer_rotation::last_assigned_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Assigns a ticket to the volunteer `pick` chooses, and moves them to the
/// back of the rotation. Must run inside a write transaction.
pub fn auto_assign(conn: &mut DbConnection, caller: &Caller, id: TicketId) -> AppResult<()> {
    let row = service::find(conn, caller, id)?;
    let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
    let now_local = Utc::now().with_timezone(&tz).naive_local();
    // Serialise picks so two tickets at once go to two people.
    crate::db::locks::organisation(conn, caller.organisation_id)?;
    let volunteer = pick(conn, caller, &row.category, now_local)?.ok_or_else(|| {
        AppError::conflict(
            "no_volunteer_on_duty",
            format!("no volunteer on duty now handles {}", row.category),
        )
    })?;
    service::assign(conn, caller, id, volunteer, Some("automatic assignment"))?;
    rotate(conn, volunteer)?;
    Ok(())
}

fn volunteer_of(conn: &mut DbConnection, caller: &Caller, id: AccountId) -> AppResult<()> {
    crate::staff::queries::find(conn, caller.organisation_id, id)?
        .filter(|a| a.role == "volunteer")
        .ok_or_else(|| AppError::not_found("volunteer"))?;
    Ok(())
}

/// A volunteer's skills and roster.
pub fn duty_of(conn: &mut DbConnection, caller: &Caller, id: AccountId) -> AppResult<Duty> {
    volunteer_of(conn, caller, id)?;
    let skills = volunteer_skills::table
        .filter(volunteer_skills::account_id.eq(id))
        .order(volunteer_skills::category.asc())
        .select(volunteer_skills::category)
        .load(conn)?;
    let slots: Vec<Slot> = volunteer_duty::table
        .filter(volunteer_duty::account_id.eq(id))
        .order(volunteer_duty::weekday.asc())
        .select((
            volunteer_duty::weekday,
            volunteer_duty::starts,
            volunteer_duty::ends,
        ))
        .load(conn)?;
    let roster = slots
        .into_iter()
        .map(|(d, starts, ends)| DutySlot {
            weekday: WEEKDAYS[d as usize % 7].to_owned(),
            starts,
            ends,
        })
        .collect();
    Ok(Duty { skills, roster })
}

/// Replaces a volunteer's skills (known categories only) and roster. Must
/// run inside a write transaction.
pub fn set_duty(
    conn: &mut DbConnection,
    caller: &Caller,
    id: AccountId,
    skills: &[String],
    slots: &[Slot],
) -> AppResult<()> {
    volunteer_of(conn, caller, id)?;
    let known: Vec<String> = super::queries::category_codes(conn, caller.organisation_id)?
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    if let Some(unknown) = skills.iter().find(|s| !known.contains(s)) {
        return Err(AppError::invalid_field(
            "skills",
            format!("unknown category {unknown}"),
        ));
    }
    diesel::delete(volunteer_skills::table.filter(volunteer_skills::account_id.eq(id)))
        .execute(conn)?;
    for skill in skills {
        diesel::insert_into(volunteer_skills::table)
            .values((
                volunteer_skills::account_id.eq(id),
                volunteer_skills::category.eq(skill),
            ))
            .execute(conn)?;
    }
    diesel::delete(volunteer_duty::table.filter(volunteer_duty::account_id.eq(id)))
        .execute(conn)?;
    for (day, starts, ends) in slots {
        diesel::insert_into(volunteer_duty::table)
            .values((
                volunteer_duty::account_id.eq(id),
                volunteer_duty::weekday.eq(day),
                volunteer_duty::starts.eq(starts),
                volunteer_duty::ends.eq(ends),
            ))
            .execute(conn)?;
    }
    crate::audit::record(
        conn,
        caller,
        "staff.duty",
        "staff_account",
        id,
        format!("{} skill(s), {} duty slot(s)", skills.len(), slots.len()),
    )?;
    Ok(())
}
