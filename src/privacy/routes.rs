//! `/api/v1/residents/{id}/export` and `/erase`: a resident's rights over
//! their data (APPI). Admins and coordinators; both are audited.

use actix_web::{get, post, web};
use uuid::Uuid;

use super::service::{self as privacy, EraseRequest, Erased, Eraser, ResidentExport};
use crate::auth::{Caller, Role, WRITERS};
use crate::db::ResidentId;
use crate::error::{AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::{Checker, optional_text, required_text};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_resident).service(erase_resident);
}

/// Everything held about a resident: profile, bookings and attendance,
/// loans, payments, consultations with their messages, mails and calls.
#[utoipa::path(
    tag = "privacy",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Resident id")),
    responses(
        (status = 200, description = "Everything held", body = ResidentExport),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/residents/{id}/export")]
async fn export_resident(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<ResidentExport>> {
    caller.require(WRITERS)?;
    let id = ResidentId(id.into_inner());
    // A write: the export itself is recorded in the audit log.
    let out = state
        .write(move |conn| privacy::export(conn, &caller, id))
        .await?;
    Ok(web::Json(out))
}

/// Erase a resident: names, kana, phone, email, birth year (the age band
/// stays), notes, the details and words of their consultations, mails and
/// calls are replaced; bookings, attendance and money stay, anonymously, so
/// reports of past periods do not change. Refused while an upcoming
/// booking stands (`upcoming_bookings`), a loan is open (`open_loan`) or
/// money is owed (`money_owed`) — an admin may override the last two with
/// `override_reason`.
#[utoipa::path(
    tag = "privacy",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Resident id")),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased", body = Erased),
        (status = 403, description = "Not an admin or coordinator, or an override by a non-admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such resident in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_erased`, `upcoming_bookings`, `open_loan` or `money_owed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/residents/{id}/erase")]
async fn erase_resident(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<EraseRequest>,
) -> AppResult<web::Json<Erased>> {
    caller.require(WRITERS)?;
    let mut v = Checker::new();
    let reason = v.check("reason", required_text(&body.0.reason, 500));
    let override_reason = v.check(
        "override_reason",
        optional_text(body.0.override_reason.as_deref(), 500),
    );
    v.finish()?;
    let id = ResidentId(id.into_inner());
    let who = Eraser {
        organisation: caller.organisation_id,
        actor: Some(caller.account_id),
        admin: caller.role == Role::Admin,
    };
    let done = state
        .write(move |conn| privacy::erase(conn, &who, id, &reason, override_reason.as_deref()))
        .await?;
    Ok(web::Json(done))
}
