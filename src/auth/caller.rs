//! The `Caller` extractor: who is calling, for which organisation, in which
//! role. A handler that takes a `Caller` is authenticated; `require` states
//! which roles may call it.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::Role;
use crate::auth::jwt::Claims;
use crate::auth::queries;
use crate::db::{AccountId, AuthSessionId, DbConnection, OrganisationId};
use crate::error::{AppError, AppResult};
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
                return Err(password_change_required());
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
    let verified = Bearer::verify(req);
    async move {
        let (state, bearer) = verified?;
        state.db(move |conn| bearer.account(conn)).await
    }
}

fn invalid() -> AppError {
    AppError::unauthorized("invalid_token", "the access token is invalid or expired")
}

/// A verified access token whose account is not looked up yet. The busiest
/// routes (the availability list, a booking) take this instead of `Caller`
/// and call `caller` on the connection their work uses: the same checks,
/// read at the same moment, with one pool check-out and one thread hop
/// fewer (docs/benchmarks.md).
#[derive(Debug, Clone)]
pub struct Bearer {
    claims: Claims,
}

impl Bearer {
    fn verify(req: &HttpRequest) -> Result<(web::Data<AppState>, Bearer), AppError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
        let token = bearer_token(req).ok_or_else(|| {
            AppError::unauthorized(
                "unauthenticated",
                "send an access token: Authorization: Bearer <token>",
            )
        })?;
        let claims = state.jwt.verify(&token).ok_or_else(invalid)?;
        Ok((state, Bearer { claims }))
    }

    /// The account and auth session the token names: one look-up answers
    /// every request made with them at the same moment.
    pub fn key(&self) -> (AccountId, AuthSessionId) {
        (self.claims.sub, self.claims.sid)
    }

    /// The organisation the token was issued for (checked against the
    /// account by `caller`).
    pub fn organisation(&self) -> OrganisationId {
        self.claims.org
    }

    /// The caller as `Caller`'s extractor makes it: a live account and
    /// auth session (401 otherwise), no password change pending (403).
    pub fn caller(&self, conn: &mut DbConnection) -> AppResult<Caller> {
        let caller = self.account(conn)?;
        if caller.must_change_password {
            return Err(password_change_required());
        }
        Ok(caller)
    }

    fn account(&self, conn: &mut DbConnection) -> AppResult<Caller> {
        let row =
            queries::live_account(conn, self.claims.sub, self.claims.sid)?.ok_or_else(invalid)?;
        if row.organisation_id != self.claims.org {
            return Err(invalid());
        }
        Ok(Caller {
            account_id: row.id,
            organisation_id: row.organisation_id,
            role: row.role()?,
            session_id: self.claims.sid,
            must_change_password: row.must_change_password,
        })
    }
}

impl FromRequest for Bearer {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Bearer::verify(req).map(|(_, bearer)| bearer))
    }
}

fn password_change_required() -> AppError {
    AppError::forbidden(
        "password_change_required",
        "choose a new password first: POST /api/v1/me/password",
    )
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}
