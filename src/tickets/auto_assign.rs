//! Automatic assignment: among active volunteers with the ticket's category
//! in their skills and on duty now (weekly roster, organisation time), the
//! one who least recently got a ticket. Also the endpoints that keep skills
//! and rosters.

use actix_web::{get, post, put, web};
use chrono::{Datelike, NaiveDateTime, NaiveTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::routes::detail;
use super::service;
use super::types::TicketDetail;
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::calendar::WEEKDAYS;
use crate::db::schema::{staff_accounts, volunteer_duty, volunteer_rotation, volunteer_skills};
use crate::db::{AccountId, DbConnection, TicketId, write_tx};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::Checker;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(auto_assign).service(get_duty).service(set_duty);
}

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

fn rotate(conn: &mut DbConnection, account: AccountId) -> QueryResult<()> {
    let now = Utc::now().naive_utc();
    let updated = diesel::update(
        volunteer_rotation::table.filter(volunteer_rotation::account_id.eq(account.to_string())),
    )
    .set(volunteer_rotation::last_assigned_at.eq(now))
    .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(volunteer_rotation::table)
            .values((
                volunteer_rotation::account_id.eq(account.to_string()),
                volunteer_rotation::last_assigned_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Assign a ticket automatically: round-robin among the volunteers on duty
/// now whose skills include its category.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "Assigned", body = TicketDetail),
        (status = 409, description = "Nobody on duty handles this category (`no_volunteer_on_duty`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tickets/{id}/auto-assign")]
async fn auto_assign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<TicketDetail>> {
    caller.require(WRITERS)?;
    let id = TicketId(id.into_inner());
    let ticket = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let row = service::find(conn, &caller, id)?;
                let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
                let now_local = Utc::now().with_timezone(&tz).naive_local();
                // Serialise picks so two tickets at once go to two people.
                crate::organisations::queries::lock(conn, caller.organisation_id)?;
                let volunteer =
                    pick(conn, &caller, &row.category, now_local)?.ok_or_else(|| {
                        AppError::conflict(
                            "no_volunteer_on_duty",
                            format!("no volunteer on duty now handles {}", row.category),
                        )
                    })?;
                service::assign(conn, &caller, id, volunteer, Some("automatic assignment"))?;
                rotate(conn, volunteer)?;
                detail(conn, &caller, id)
            })
        })
        .await?;
    Ok(web::Json(ticket))
}

fn volunteer_of(conn: &mut DbConnection, caller: &Caller, id: AccountId) -> AppResult<()> {
    crate::staff::queries::find(conn, caller.organisation_id, id)?
        .filter(|a| a.role == "volunteer")
        .ok_or_else(|| AppError::not_found("volunteer"))?;
    Ok(())
}

/// A volunteer's skills and weekly duty roster.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Volunteer's account id")),
    responses(
        (status = 200, description = "Skills and roster", body = Duty),
        (status = 404, description = "No such volunteer in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/staff/{id}/duty")]
async fn get_duty(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Duty>> {
    let id = AccountId(id.into_inner());
    let duty = state
        .db(move |conn| {
            volunteer_of(conn, &caller, id)?;
            let skills = volunteer_skills::table
                .filter(volunteer_skills::account_id.eq(id.to_string()))
                .order(volunteer_skills::category.asc())
                .select(volunteer_skills::category)
                .load(conn)?;
            let slots: Vec<(i32, NaiveTime, NaiveTime)> = volunteer_duty::table
                .filter(volunteer_duty::account_id.eq(id.to_string()))
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
        })
        .await?;
    Ok(web::Json(duty))
}

/// Replace a volunteer's skills and roster (coordinators and admins).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Volunteer's account id")),
    request_body = Duty,
    responses(
        (status = 200, description = "Saved", body = Duty),
        (status = 404, description = "No such volunteer in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown category or weekday, or a slot ending before it starts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/staff/{id}/duty")]
async fn set_duty(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<Duty>,
) -> AppResult<web::Json<Duty>> {
    caller.require(WRITERS)?;
    let id = AccountId(id.into_inner());
    let duty = body.0;
    let mut v = Checker::new();
    let mut slots = Vec::new();
    for (i, slot) in duty.roster.iter().enumerate() {
        match WEEKDAYS.iter().position(|d| *d == slot.weekday) {
            Some(_) if slot.ends <= slot.starts => {
                v.fail(&format!("roster[{i}].ends"), "must be after starts")
            }
            Some(day) if slots.iter().any(|(d, _, _)| *d == day as i32) => {
                v.fail(&format!("roster[{i}].weekday"), "appears twice")
            }
            Some(day) => slots.push((day as i32, slot.starts, slot.ends)),
            None => v.fail(&format!("roster[{i}].weekday"), "must be monday … sunday"),
        }
    }
    for (i, skill) in duty.skills.iter().enumerate() {
        if duty.skills[..i].contains(skill) {
            v.fail(&format!("skills[{i}]"), format!("{skill} appears twice"));
        }
    }
    v.finish()?;
    let answer = duty.clone();
    state
        .db(move |conn| {
            write_tx(conn, |conn| {
                volunteer_of(conn, &caller, id)?;
                let known: Vec<String> =
                    super::queries::category_codes(conn, caller.organisation_id)?
                        .into_iter()
                        .map(|(c, _, _)| c)
                        .collect();
                if let Some(unknown) = duty.skills.iter().find(|s| !known.contains(s)) {
                    return Err(AppError::invalid_field(
                        "skills",
                        format!("unknown category {unknown}"),
                    ));
                }
                diesel::delete(
                    volunteer_skills::table.filter(volunteer_skills::account_id.eq(id.to_string())),
                )
                .execute(conn)?;
                for skill in &duty.skills {
                    diesel::insert_into(volunteer_skills::table)
                        .values((
                            volunteer_skills::account_id.eq(id.to_string()),
                            volunteer_skills::category.eq(skill),
                        ))
                        .execute(conn)?;
                }
                diesel::delete(
                    volunteer_duty::table.filter(volunteer_duty::account_id.eq(id.to_string())),
                )
                .execute(conn)?;
                for (day, starts, ends) in &slots {
                    diesel::insert_into(volunteer_duty::table)
                        .values((
                            volunteer_duty::account_id.eq(id.to_string()),
                            volunteer_duty::weekday.eq(day),
                            volunteer_duty::starts.eq(starts),
                            volunteer_duty::ends.eq(ends),
                        ))
                        .execute(conn)?;
                }
                crate::audit::record(
                    conn,
                    crate::audit::AuditEntry {
                        organisation_id: caller.organisation_id,
                        actor_id: Some(caller.account_id),
                        action: "staff.duty",
                        entity: "staff_account",
                        entity_id: id.to_string(),
                        summary: format!(
                            "{} skill(s), {} duty slot(s)",
                            duty.skills.len(),
                            slots.len()
                        ),
                    },
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(web::Json(answer))
}
