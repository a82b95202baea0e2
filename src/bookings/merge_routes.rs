//! `POST /api/v1/residents/{id}/merge`: the rules are in `bookings::merge`.

use actix_web::{post, web};
use uuid::Uuid;

use super::merge as merging;
use crate::auth::{Caller, WRITERS};
use crate::db::ResidentId;
use crate::error::{AppResult, Problem};
use crate::http::ApiJson;
use crate::residents::queries as residents;
use crate::residents::types::{MergeResidents, ResidentDetail};
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
        .write(move |conn| {
            let merged = merging::merge(conn, &caller, survivor_id, duplicate_id, turnaround)?;
            let (attended_count, no_show_count) =
                residents::attendance_counts(conn, merged.survivor.id)?;
            Ok(ResidentDetail {
                resident: merged.survivor.into(),
                attended_count,
                no_show_count,
            })
        })
        .await?;
    Ok(web::Json(detail))
}
