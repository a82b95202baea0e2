//! `/api/v1/me`: the caller's own account, and changing one's own password.
//! Both accept a caller who still has to change a one-time password.

use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::queries::{self};
use super::types::{ChangeOwnPassword, StaffAccount};
use crate::auth::PendingCaller;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::organisations::{self, Organisation};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(me).service(change_own_password);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub account: StaffAccount,
    pub organisation: Organisation,
}

/// The caller: account, role and organisation.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
async fn me(state: web::Data<AppState>, caller: PendingCaller) -> AppResult<web::Json<Me>> {
    let caller = caller.0;
    let (account, organisation) = state
        .db(move |conn| {
            let account = queries::find(conn, caller.organisation_id, caller.account_id)?
                .ok_or_else(|| AppError::not_found("staff account"))?;
            let organisation = organisations::queries::get(conn, caller.organisation_id)?;
            Ok((account, organisation))
        })
        .await?;
    Ok(web::Json(Me {
        account: StaffAccount::try_from(account)?,
        organisation: organisation.into(),
    }))
}

/// Change one's own password. Other sessions of the account are revoked;
/// this one stays.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangeOwnPassword,
    responses(
        (status = 204, description = "Password changed"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Current password wrong or new one too weak", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
async fn change_own_password(
    state: web::Data<AppState>,
    caller: PendingCaller,
    body: ApiJson<ChangeOwnPassword>,
) -> AppResult<HttpResponse> {
    let req = body.0;
    super::service::change_own_password(&state, caller.0, req.current_password, req.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
