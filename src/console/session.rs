//! The console's signed-in person, from the session cookie, and the CSRF
//! check of every request that changes something.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use sha2::{Digest, Sha256};

use super::ConsoleError;
use crate::auth::Caller;
use crate::state::AppState;

pub const COOKIE: &str = "madoguchi_session";

/// The signed-in staff member of a console request.
#[derive(Debug, Clone)]
pub struct Staff {
    pub caller: Caller,
    pub name: String,
    /// The session's CSRF token, for the page to send back.
    pub csrf: String,
}

/// The CSRF token of a session secret (derived, so nothing more is stored).
pub fn csrf_of(secret: &str) -> String {
    let digest = Sha256::digest(format!("madoguchi-csrf:{secret}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The session cookie: HttpOnly, SameSite=Strict, Secure in production.
pub fn cookie(secret: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, secret.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// A cookie that removes the session cookie.
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut c = cookie("", secure);
    c.make_removal();
    c
}

/// Who is signed in, if anyone (no CSRF or password checks).
async fn lookup(req: &HttpRequest) -> Result<Option<(Staff, bool)>, ConsoleError> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ConsoleError::SignIn);
    };
    let Some(secret) = req.cookie(COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    if secret.is_empty() {
        return Ok(None);
    }
    let digest = crate::auth::tokens::digest(&secret);
    let found = state
        .db(move |conn| Ok(crate::auth::queries::console_account(conn, &digest)?))
        .await?;
    let Some((account, session)) = found else {
        return Ok(None);
    };
    let role = account
        .role()
        .map_err(|e| ConsoleError::App(crate::error::AppError::Internal(e)))?;
    Ok(Some((
        Staff {
            caller: Caller {
                account_id: account.id,
                organisation_id: account.organisation_id,
                role,
                session_id: session,
                must_change_password: account.must_change_password,
            },
            name: account.name,
            csrf: csrf_of(&secret),
        },
        account.must_change_password,
    )))
}

fn csrf_ok(req: &HttpRequest, staff: &Staff) -> bool {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return true;
    }
    req.headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t == staff.csrf)
}

impl FromRequest for Staff {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (staff, must_change) = lookup(&req).await?.ok_or(ConsoleError::SignIn)?;
            if !csrf_ok(&req, &staff) {
                return Err(ConsoleError::Csrf);
            }
            if must_change {
                return Err(ConsoleError::ChangePassword);
            }
            Ok(staff)
        })
    }
}

/// A signed-in person who may still have to choose a new password (the
/// password page itself).
pub struct PendingStaff(pub Staff);

impl FromRequest for PendingStaff {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (staff, _) = lookup(&req).await?.ok_or(ConsoleError::SignIn)?;
            if !csrf_ok(&req, &staff) {
                return Err(ConsoleError::Csrf);
            }
            Ok(PendingStaff(staff))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_strict_and_secure_in_production() {
        let c = cookie("secret", true);
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.same_site(), Some(SameSite::Strict));
        assert_eq!(c.secure(), Some(true));
        assert_eq!(c.path(), Some("/"));
        assert_eq!(cookie("secret", false).secure(), Some(false));
    }

    #[test]
    fn the_csrf_token_follows_the_session_and_hides_it() {
        let token = csrf_of("one secret");
        assert_eq!(token, csrf_of("one secret"));
        assert_ne!(token, csrf_of("another secret"));
        assert!(!token.contains("one secret") && token.len() == 32);
    }
}
