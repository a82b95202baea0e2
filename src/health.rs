//! `/health/live` (the process answers) and `/health/ready` (the database
//! answers too; 503 otherwise).

use std::time::Duration;

use actix_web::{get, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(live).service(ready);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` on a 200.
    pub status: String,
}

/// Liveness: the process is up.
#[utoipa::path(tag = "health", responses((status = 200, description = "Up", body = Health)))]
#[get("/health/live")]
async fn live() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> AppResult<web::Json<Health>> {
    let pool = state.pool.clone();
    let check = web::block(move || {
        pool.get_timeout(Duration::from_secs(2))
            .ok()
            .is_some_and(|mut conn| conn.batch_execute("SELECT 1").is_ok())
    });
    // A database that silently stops answering must turn readiness 503
    // quickly, not hang the probe.
    let reachable = tokio::time::timeout(Duration::from_secs(3), check)
        .await
        .is_ok_and(|answer| answer.unwrap_or(false));
    if reachable {
        Ok(web::Json(Health {
            status: "ok".into(),
        }))
    } else {
        Err(AppError::client(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is not reachable",
        ))
    }
}
