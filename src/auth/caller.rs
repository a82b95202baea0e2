//! The `Caller` extractor: who is calling, for which organisation, in which
//! role. A handler that takes a `Caller` is authenticated; `require` states
//! which roles may call it.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::Role;
use crate::auth::queries;
use crate::db::{AccountId, AuthSessionId, OrganisationId};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: AccountId,
    pub organisation_id: OrganisationId,
    /// The current role, read from the database on every request, so a role
    /// change or deactivation takes effect at once.
    pub role: Role,
    pub session_id: AuthSessionId,
    pub must_change_password: bool,
}

impl Caller {
    /// The one way to restrict a handler to some roles: 403 otherwise.
    pub fn require(&self, allowed: &[Role]) -> Result<(), AppError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "forbidden",
                format!("a {} may not do this", self.role),
            ))
        }
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pending = authenticate(req);
        Box::pin(async move {
            let caller = pending.await?;
            if caller.must_change_password {
                return Err(AppError::forbidden(
                    "password_change_required",
                    "choose a new password first: POST /api/v1/me/password",
                ));
            }
            Ok(caller)
        })
    }
}

/// An authenticated caller who may still have to change their password: only
/// `/me`, `/me/password` and logout accept it.
#[derive(Debug, Clone)]
pub struct PendingCaller(pub Caller);

impl FromRequest for PendingCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pending = authenticate(req);
        Box::pin(async move { pending.await.map(PendingCaller) })
    }
}

fn authenticate(req: &HttpRequest) -> impl Future<Output = Result<Caller, AppError>> + 'static {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer_token(req);
    async move {
        let state =
            state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
        let token = token.ok_or_else(|| {
            AppError::unauthorized(
                "unauthenticated",
                "send an access token: Authorization: Bearer <token>",
            )
        })?;
        let invalid =
            || AppError::unauthorized("invalid_token", "the access token is invalid or expired");
        let claims = state.jwt.verify(&token).ok_or_else(invalid)?;
        let (account, session) = (claims.sub, claims.sid);
        let row = state
            .db(move |conn| Ok(queries::live_account(conn, account, session)?))
            .await?
            .ok_or_else(invalid)?;
        if row.organisation_id != claims.org {
            return Err(invalid());
        }
        Ok(Caller {
            account_id: row.id,
            organisation_id: row.organisation_id,
            role: row.role()?,
            session_id: session,
            must_change_password: row.must_change_password,
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}
