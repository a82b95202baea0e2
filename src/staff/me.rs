//! `/api/v1/me`: the caller's own account, and changing one's own password.
//! Both accept a caller who still has to change a one-time password.

use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::queries::{self, AccountChanges};
use super::types::{ChangeOwnPassword, StaffAccount};
use crate::auth::{PendingCaller, password, queries as auth_queries};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::organisations::{self, Organisation};
use crate::state::{AppState, blocking};

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
    let caller = caller.0;
    let req = body.0;
    let account = state
        .db(move |conn| {
            Ok(queries::find(
                conn,
                caller.organisation_id,
                caller.account_id,
            )?)
        })
        .await?
        .ok_or_else(|| AppError::not_found("staff account"))?;
    let new = password::NewPassword::parse(&req.new_password, &account.email)
        .map_err(|m| AppError::invalid_field("new_password", m))?;
    let stored = account.password_hash.clone();
    let current = req.current_password;
    let hash = blocking(move || {
        if !password::verify(&current, Some(&stored)) {
            return Err(AppError::invalid_field("current_password", "is incorrect"));
        }
        Ok(password::hash(&new)?)
    })
    .await??;
    state
        .write(move |conn| {
            let changes = AccountChanges {
                password_hash: Some(&hash),
                must_change_password: Some(false),
                ..Default::default()
            };
            queries::update(conn, caller.organisation_id, caller.account_id, changes)?;
            auth_queries::revoke_sessions_of(conn, caller.account_id, Some(caller.session_id))?;
            crate::audit::record(
                conn,
                &caller,
                "staff.password_change",
                "staff_account",
                caller.account_id.to_string(),
                "changed own password; other sessions revoked",
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
