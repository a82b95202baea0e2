//! `/api/v1/auth/*`: login, refresh, logout.

use actix_web::{HttpRequest, HttpResponse, post, web};

use crate::auth::PendingCaller;
use crate::auth::service::{self, LoginRequest, RefreshRequest, TokenPair};
use crate::error::{AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(refresh).service(logout);
}

/// Log in with email and password.
///
/// Failed attempts are throttled per account and per client address; the
/// answer never says whether the email exists.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<LoginRequest>,
) -> AppResult<web::Json<TokenPair>> {
    let ip = crate::http::client::address(&req, &state.settings.http.trusted_proxies);
    service::login(&state, body.0, ip).await.map(web::Json)
}

/// Exchange a refresh token for a new token pair (the old one is spent).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        (status = 401, description = "Invalid, spent or expired refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> AppResult<web::Json<TokenPair>> {
    service::refresh(&state, body.0.refresh_token)
        .await
        .map(web::Json)
}

/// Log out: revokes the session of the access token and its refresh tokens.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
async fn logout(state: web::Data<AppState>, caller: PendingCaller) -> AppResult<HttpResponse> {
    service::logout(&state, caller.0.session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
