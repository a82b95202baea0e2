//! `GET /api/v1/audit`: the organisation's audit log, for admins.

use actix_web::{get, web};

use super::queries;
use super::types::{AuditFilter, AuditRecord};
use crate::auth::Caller;
use crate::auth::Role;
use crate::error::{AppResult, Problem};
use crate::pagination::{self, Page};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit);
}

/// The audit log, newest first, filterable by entity, actor, action and time.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditFilter),
    responses(
        (status = 200, description = "One page of entries", body = Page<AuditRecord>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<AuditFilter>,
) -> AppResult<web::Json<Page<AuditRecord>>> {
    caller.require(&[Role::Admin])?;
    let limit = pagination::limit(filter.limit)?;
    let mut filter = filter.into_inner();
    let rows = state
        .db(move |conn| {
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            crate::calendar::instant::resolve(&mut filter.from, &mut filter.to, tz);
            Ok(queries::list(conn, caller.organisation_id, &filter, limit)?)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(AuditRecord::try_from)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(web::Json(pagination::page(items, limit, |r| {
        r.id.to_string()
    })))
}
