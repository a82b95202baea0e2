//! `/api/v1/staff`: admins manage the accounts of their organisation;
//! coordinators may read them. Another organisation's ids answer 404.

use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::queries::{self, AccountChanges};
use super::service::{self, NewStaff};
use super::types::{
    CreateStaff, PersonName, ResetPassword, Role, StaffAccount, StaffFilter, UpdateStaff,
    optional_text,
};
use crate::auth::{Caller, password, queries as auth_queries};
use crate::db::{AccountId, VenueId};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::{AppState, blocking};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_staff)
        .service(list_staff)
        .service(get_staff)
        .service(update_staff)
        .service(deactivate_staff)
        .service(reactivate_staff)
        .service(reset_password);
}

const READERS: &[Role] = &[Role::Admin, Role::Coordinator];
const ADMINS: &[Role] = &[Role::Admin];

/// Create a staff account.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = CreateStaff,
    responses(
        (status = 201, description = "Created", body = StaffAccount),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already used (`email_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/staff")]
async fn create_staff(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<CreateStaff>,
) -> AppResult<HttpResponse> {
    caller.require(ADMINS)?;
    let req = body.0;
    let new = NewStaff::parse(
        &req.email,
        &req.name,
        req.role,
        req.affiliation.as_deref(),
        &req.password,
    )?;
    let (new, hash) = blocking(move || {
        let hash = password::hash(&new.password);
        (new, hash)
    })
    .await?;
    let hash = hash?;
    let row = state
        .write(move |conn| {
            service::create(
                conn,
                caller.organisation_id,
                Some(caller.account_id),
                &new,
                &hash,
                false,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(StaffAccount::try_from(row)?))
}

/// List the organisation's staff accounts (creation order, paginated).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(StaffFilter),
    responses(
        (status = 200, description = "One page of accounts", body = Page<StaffAccount>),
        (status = 403, description = "Neither admin nor coordinator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/staff")]
async fn list_staff(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<StaffFilter>,
) -> AppResult<web::Json<Page<StaffAccount>>> {
    caller.require(READERS)?;
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    let rows = state
        .db(move |conn| Ok(queries::list(conn, caller.organisation_id, &filter, limit)?))
        .await?;
    let items = rows
        .into_iter()
        .map(StaffAccount::try_from)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(web::Json(pagination::page(items, limit, |a| {
        a.id.to_string()
    })))
}

/// One staff account.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = StaffAccount),
        (status = 404, description = "No such account in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/staff/{id}")]
async fn get_staff(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<StaffAccount>> {
    caller.require(READERS)?;
    let id = AccountId(id.into_inner());
    let row = state
        .db(move |conn| Ok(queries::find(conn, caller.organisation_id, id)?))
        .await?
        .ok_or_else(|| AppError::not_found("staff account"))?;
    Ok(web::Json(StaffAccount::try_from(row)?))
}

/// Change an account's name, role or affiliation.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    request_body = UpdateStaff,
    responses(
        (status = 200, description = "Updated", body = StaffAccount),
        (status = 404, description = "No such account in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would remove the last active admin (`last_admin`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/staff/{id}")]
async fn update_staff(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<UpdateStaff>,
) -> AppResult<web::Json<StaffAccount>> {
    caller.require(ADMINS)?;
    let id = AccountId(id.into_inner());
    let req = body.0;
    let mut errors = Vec::new();
    let name = req
        .name
        .as_deref()
        .map(PersonName::parse)
        .transpose()
        .map_err(|m| errors.push(FieldError::new("name", m)))
        .ok()
        .flatten();
    let affiliation = match req.affiliation.as_deref() {
        None => None,
        Some(raw) => optional_text(Some(raw), 100)
            .map_err(|m| errors.push(FieldError::new("affiliation", m)))
            .ok(),
    };
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let mut summary = describe_update(name.as_ref(), req.role, affiliation.as_ref());
    if req.venue_id.is_some() {
        summary.push_str(", venue");
    }
    let row = state
        .write(move |conn| {
            let name = name.map(PersonName::into_inner);
            let venue = match req.venue_id {
                Some(Some(v)) => Some(Some(
                    crate::venues::queries::find(conn, caller.organisation_id, VenueId(v))?
                        .ok_or_else(|| AppError::invalid_field("venue_id", "no such venue"))?
                        .id,
                )),
                Some(None) => Some(None),
                None => None,
            };
            let changes = AccountChanges {
                name: name.as_deref(),
                role: req.role.map(Role::as_str),
                affiliation: affiliation.as_ref().map(|a| a.as_deref()),
                venue_id: venue,
                ..Default::default()
            };
            service::change(
                conn,
                (caller.organisation_id, caller.account_id),
                id,
                changes,
                "staff.update",
                summary,
            )
        })
        .await?;
    Ok(web::Json(StaffAccount::try_from(row)?))
}

fn describe_update(
    name: Option<&PersonName>,
    role: Option<Role>,
    affiliation: Option<&Option<String>>,
) -> String {
    let mut parts = Vec::new();
    if name.is_some() {
        parts.push("name".to_owned());
    }
    if let Some(role) = role {
        parts.push(format!("role → {role}"));
    }
    if affiliation.is_some() {
        parts.push("affiliation".to_owned());
    }
    if parts.is_empty() {
        "no change".into()
    } else {
        format!("updated {}", parts.join(", "))
    }
}

/// Deactivate an account: it can no longer log in and its tokens stop working.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "Deactivated", body = StaffAccount),
        (status = 404, description = "No such account in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Own account (`cannot_deactivate_self`) or last admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/staff/{id}/deactivate")]
async fn deactivate_staff(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<StaffAccount>> {
    caller.require(ADMINS)?;
    let id = AccountId(id.into_inner());
    set_active(&state, &caller, id, false).await
}

/// Reactivate a deactivated account.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "Reactivated", body = StaffAccount),
        (status = 404, description = "No such account in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/staff/{id}/reactivate")]
async fn reactivate_staff(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<StaffAccount>> {
    caller.require(ADMINS)?;
    set_active(&state, &caller, AccountId(id.into_inner()), true).await
}

async fn set_active(
    state: &AppState,
    caller: &Caller,
    id: AccountId,
    active: bool,
) -> AppResult<web::Json<StaffAccount>> {
    let who = (caller.organisation_id, caller.account_id);
    let row = state
        .write(move |conn| service::set_active(conn, who, id, active))
        .await?;
    Ok(web::Json(StaffAccount::try_from(row)?))
}

/// Set a temporary password; the holder must change it at the next login and
/// every session of the account is revoked.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    request_body = ResetPassword,
    responses(
        (status = 200, description = "Password reset", body = StaffAccount),
        (status = 404, description = "No such account in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Password does not meet the policy", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/staff/{id}/password")]
async fn reset_password(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<ResetPassword>,
) -> AppResult<web::Json<StaffAccount>> {
    caller.require(ADMINS)?;
    let id = AccountId(id.into_inner());
    let organisation = caller.organisation_id;
    let target = state
        .db(move |conn| Ok(queries::find(conn, organisation, id)?))
        .await?
        .ok_or_else(|| AppError::not_found("staff account"))?;
    let new = password::NewPassword::parse(&body.0.new_password, &target.email)
        .map_err(|m| AppError::invalid_field("new_password", m))?;
    let hash = blocking(move || password::hash(&new)).await??;
    let who = (caller.organisation_id, caller.account_id);
    let row = state
        .write(move |conn| {
            let changes = AccountChanges {
                password_hash: Some(&hash),
                must_change_password: Some(true),
                ..Default::default()
            };
            let row = service::change(
                conn,
                who,
                id,
                changes,
                "staff.password_reset",
                "password reset by admin; sessions revoked".into(),
            )?;
            auth_queries::revoke_sessions_of(conn, id, None)?;
            Ok(row)
        })
        .await?;
    Ok(web::Json(StaffAccount::try_from(row)?))
}
