//! Signing in and out, and choosing a new password.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::session::{self, PendingStaff};
use super::{ConsoleError, ConsoleResult, Page, html, hx_redirect, message, redirect};
use crate::auth::service::LoginRequest;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/password", web::get().to(password_page))
        .route("/password", web::post().to(change_password));
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct Login<'a> {
    version: &'static str,
    error: &'a str,
    email: &'a str,
}

async fn login_page() -> ConsoleResult {
    html(
        StatusCode::OK,
        Login {
            version: super::assets::css_version(),
            error: "",
            email: "",
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

/// A login form must come from our own pages: a browser sends `Origin` on
/// a POST, and it must name this host.
fn same_origin(req: &HttpRequest) -> bool {
    let host = req.connection_info().host().to_owned();
    match req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    {
        Some(origin) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        None => true,
    }
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> ConsoleResult {
    if !same_origin(&req) {
        return Err(ConsoleError::Csrf);
    }
    let form = form.into_inner();
    let email = form.email.clone();
    let ip = crate::http::client::address(&req, &state.settings.http.trusted_proxies);
    let request = LoginRequest {
        email: form.email,
        password: SecretString::from(form.password),
    };
    match crate::auth::service::verify_credentials(&state, request, ip).await {
        Ok(account) => {
            let secret = crate::auth::service::open_console_session(&state, &account).await?;
            let production = state.settings.env == crate::config::Environment::Production;
            let to = if account.must_change_password {
                "/password"
            } else {
                "/"
            };
            let mut res = redirect(to);
            res.add_cookie(&session::cookie(&secret, production))
                .map_err(|e| ConsoleError::App(crate::error::AppError::Internal(e.into())))?;
            Ok(res)
        }
        Err(e @ crate::error::AppError::Client(_)) => html(
            StatusCode::UNAUTHORIZED,
            Login {
                version: super::assets::css_version(),
                error: &super::in_japanese(&e),
                email: &email,
            },
        ),
        Err(e) => Err(e.into()),
    }
}

async fn logout(state: web::Data<AppState>, staff: PendingStaff) -> ConsoleResult {
    crate::auth::service::logout(&state, staff.0.caller.session_id).await?;
    let production = state.settings.env == crate::config::Environment::Production;
    let mut res = hx_redirect("/login");
    res.add_cookie(&session::removal(production))
        .map_err(|e| ConsoleError::App(crate::error::AppError::Internal(e.into())))?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct Password {
    page: Page,
}

async fn password_page(staff: PendingStaff) -> ConsoleResult {
    html(
        StatusCode::OK,
        Password {
            page: Page::of(&staff.0),
        },
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn change_password(
    state: web::Data<AppState>,
    staff: PendingStaff,
    form: web::Form<PasswordForm>,
) -> ConsoleResult {
    let form = form.into_inner();
    match crate::staff::service::change_own_password(
        &state,
        staff.0.caller.clone(),
        SecretString::from(form.current_password),
        SecretString::from(form.new_password),
    )
    .await
    {
        Ok(()) => Ok(hx_redirect("/")),
        Err(e @ crate::error::AppError::Client(_)) => message("error", &password_message(&e)),
        Err(e) => Err(e.into()),
    }
}

fn password_message(e: &crate::error::AppError) -> String {
    if let crate::error::AppError::Client(c) = e {
        if c.errors.iter().any(|f| f.field == "current_password") {
            return "いまのパスワードがちがいます。".into();
        }
        if let Some(f) = c.errors.iter().find(|f| f.field == "new_password") {
            return format!("新しいパスワードを決めなおしてください（{}）。", f.message);
        }
    }
    super::in_japanese(e)
}
