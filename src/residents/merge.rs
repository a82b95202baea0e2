//! Merging two records of the same person: the duplicate's bookings (with
//! their attendance) move to the survivor, missing contact details are
//! filled from the duplicate, and the duplicate points to the survivor.

use actix_web::{post, web};
use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::queries;
use super::types::{MergeResidents, ResidentDetail};
use crate::audit::{self, AuditEntry};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::bookings::{queries as bookings_queries, service as bookings};
use crate::db::schema::{bookings as bookings_table, residents};
use crate::db::{ResidentId, write_tx};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(merge);
}

/// Merge a duplicate record into this resident.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resident who remains")),
    request_body = MergeResidents,
    responses(
        (status = 200, description = "Merged: the surviving resident", body = ResidentDetail),
        (status = 404, description = "Either resident is not in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Same record, or already merged (`invalid_merge`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/residents/{id}/merge")]
async fn merge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<MergeResidents>,
) -> AppResult<web::Json<ResidentDetail>> {
    caller.require(WRITERS)?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let survivor_id = ResidentId(id.into_inner());
    let duplicate_id = ResidentId(body.0.duplicate_id);
    let detail = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                let survivor = queries::find(conn, caller.organisation_id, survivor_id)?.ok_or_else(|| AppError::not_found("resident"))?;
                let duplicate = queries::find(conn, caller.organisation_id, duplicate_id)?.ok_or_else(|| AppError::not_found("resident"))?;
                if survivor.id == duplicate.id || survivor.merged_into.is_some() || duplicate.merged_into.is_some() {
                    return Err(AppError::conflict("invalid_merge", "merge two different records that are not merged already"));
                }
                let mut moved = 0;
                let mut cancelled = 0;
                let theirs = bookings_queries::list(
                    conn,
                    caller.organisation_id,
                    &crate::bookings::types::BookingFilter {
                        reference: None,
                        resident_id: Some(duplicate.id.0),
                        session_id: None,
                        status: None,
                        limit: None,
                        cursor: None,
                    },
                    None,
                    10_000,
                    None,
                )?;
                for (booking, _) in theirs {
                    let clash = booking.status != "cancelled"
                        && bookings_queries::active_booking(conn, booking.session_id, survivor.id)?.is_some();
                    if clash {
                        // Both records were booked into the same session: keep one seat.
                        bookings::cancel(conn, &caller, booking.id, "duplicate record merged", turnaround)?;
                        cancelled += 1;
                    }
                    diesel::update(bookings_table::table.filter(bookings_table::id.eq(booking.id)))
                        .set(bookings_table::resident_id.eq(survivor.id))
                        .execute(conn)?;
                    moved += 1;
                }
                diesel::update(residents::table.filter(residents::id.eq(survivor.id)))
                    .set((
                        residents::phone.eq(survivor.phone.clone().or(duplicate.phone.clone())),
                        residents::email.eq(survivor.email.clone().or(duplicate.email.clone())),
                        residents::birth_year.eq(survivor.birth_year.or(duplicate.birth_year)),
                        residents::district.eq(survivor.district.clone().or(duplicate.district.clone())),
                        residents::updated_at.eq(Utc::now().naive_utc()),
                    ))
                    .execute(conn)?;
                diesel::update(residents::table.filter(residents::id.eq(duplicate.id)))
                    .set((residents::merged_into.eq(survivor.id.to_string()), residents::updated_at.eq(Utc::now().naive_utc())))
                    .execute(conn)?;
                audit::record(
                    conn,
                    AuditEntry {
                        organisation_id: caller.organisation_id,
                        actor_id: Some(caller.account_id),
                        action: "resident.merge",
                        entity: "resident",
                        entity_id: survivor.id.to_string(),
                        summary: format!("merged {} into this record: {moved} booking(s) moved, {cancelled} double booking(s) cancelled", duplicate.id),
                    },
                )?;
                let row = queries::find(conn, caller.organisation_id, survivor.id)?.ok_or_else(|| AppError::not_found("resident"))?;
                let (attended_count, no_show_count) = queries::attendance_counts(conn, survivor.id)?;
                Ok(ResidentDetail { resident: row.into(), attended_count, no_show_count })
            })
        })
        .await?;
    Ok(web::Json(detail))
}
