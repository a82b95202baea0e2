//! `POST /tickets/{id}/auto-assign` and `/staff/{id}/duty`; the rules are
//! in `tickets::duty`.

use actix_web::{get, post, put, web};
use uuid::Uuid;

use super::duty::{self, Duty};
use super::routes::detail;
use super::types::TicketDetail;
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::calendar::WEEKDAYS;
use crate::db::{AccountId, TicketId};
use crate::error::{AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::Checker;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(auto_assign).service(get_duty).service(set_duty);
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
        .write(move |conn| {
            duty::auto_assign(conn, &caller, id)?;
            detail(conn, &caller, id)
        })
        .await?;
    Ok(web::Json(ticket))
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
        .db(move |conn| duty::duty_of(conn, &caller, id))
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
    let duty: Duty = body.0;
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
        .write(move |conn| duty::set_duty(conn, &caller, id, &duty.skills, &slots))
        .await?;
    Ok(web::Json(answer))
}
