//! Login, refresh-token rotation and logout.

use chrono::{Duration, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::accounts::AccountRow;
use crate::auth::{password, queries, throttle, tokens};
use crate::db::{AuthSessionId, DbConnection, write_tx};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, blocking};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    pub refresh_token: SecretString,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Short-lived JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Single-use: exchange it at `/auth/refresh` for a new pair.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
}

fn invalid_credentials() -> AppError {
    AppError::unauthorized("invalid_credentials", "the email or password is incorrect")
}

fn invalid_refresh_token() -> AppError {
    AppError::unauthorized(
        "invalid_refresh_token",
        "the refresh token is invalid, spent or expired",
    )
}

fn policy(state: &AppState) -> throttle::Policy {
    let auth = &state.settings.auth;
    throttle::Policy {
        window: Duration::seconds(auth.login_window_secs as i64),
        max_per_account: auth.max_failures_per_account,
        max_per_address: auth.max_failures_per_address,
        max_per_account_any_client: auth.max_failures_per_account_any_client,
        known_client_days: auth.known_client_days,
    }
}

/// Checks the credentials and opens a new auth session. Whether the email is
/// unknown, the password wrong or the account inactive, the answer and the
/// work done (one argon2 verification) are the same.
pub async fn login(
    state: &AppState,
    request: LoginRequest,
    client_ip: String,
) -> AppResult<TokenPair> {
    let account = verify_credentials(state, request, client_ip).await?;
    open_session(state, account).await
}

/// Checks credentials under the login throttle: the account if they are
/// right and it is active; the same 401 otherwise. Shared by the API login
/// and the console's.
pub async fn verify_credentials(
    state: &AppState,
    request: LoginRequest,
    client_ip: String,
) -> AppResult<AccountRow> {
    let policy = policy(state);
    let email = request.email.trim().to_lowercase();
    let (lookup_email, lookup_ip) = (email.clone(), client_ip.clone());
    let success_ip = client_ip.clone();
    let account = state
        .db(move |conn| {
            if let Some(wait) = throttle::check(conn, &policy, &lookup_email, &lookup_ip)? {
                return Err(AppError::too_many_requests(wait));
            }
            Ok(crate::auth::accounts::find_by_email(conn, &lookup_email)?)
        })
        .await?;
    let stored_hash = account.as_ref().map(|a| a.password_hash.clone());
    let password = request.password;
    let verified = blocking(move || password::verify(&password, stored_hash.as_deref())).await?;
    match account {
        Some(account) if verified && account.active => {
            state
                .db(move |conn| {
                    throttle::record_success(conn, &email, &success_ip)?;
                    Ok(())
                })
                .await?;
            Ok(account)
        }
        _ => {
            state
                .db(move |conn| Ok(throttle::record_failure(conn, &policy, &email, &client_ip)?))
                .await?;
            tracing::info!("login failed");
            Err(invalid_credentials())
        }
    }
}

async fn open_session(state: &AppState, account: AccountRow) -> AppResult<TokenPair> {
    let refresh_ttl = Duration::days(state.settings.auth.refresh_token_ttl_days as i64);
    let refresh_token = tokens::generate();
    let token_hash = tokens::digest(&refresh_token);
    let account_id = account.id;
    let session = state
        .db(move |conn| {
            write_tx(conn, |conn: &mut DbConnection| {
                let session = queries::create_session(
                    conn,
                    account_id,
                    Utc::now().naive_utc() + refresh_ttl,
                )?;
                queries::insert_refresh_token(conn, session, &token_hash)?;
                Ok::<_, AppError>(session)
            })
        })
        .await?;
    tracing::info!(account_id = %account.id, "login succeeded");
    token_pair(state, &account, session, refresh_token)
}

fn token_pair(
    state: &AppState,
    account: &AccountRow,
    session: AuthSessionId,
    refresh_token: String,
) -> AppResult<TokenPair> {
    let access_token = state.jwt.issue(
        account.id,
        account.organisation_id,
        account.role()?,
        session,
    )?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl.as_secs(),
    })
}

enum Rotation {
    Rotated(Box<AccountRow>, AuthSessionId),
    Reused,
    Invalid,
}

/// Exchanges a refresh token for a new pair. The presented token is spent;
/// presenting a spent token again revokes its whole chain (the session), so a
/// stolen token stops working for thief and owner alike.
pub async fn refresh(state: &AppState, presented: SecretString) -> AppResult<TokenPair> {
    use secrecy::ExposeSecret;
    let token_hash = tokens::digest(presented.expose_secret());
    let next_token = tokens::generate();
    let next_hash = tokens::digest(&next_token);
    let outcome = state
        .db(move |conn| {
            write_tx(conn, |conn: &mut DbConnection| {
                let Some((token, session, account)) =
                    queries::find_refresh_token(conn, &token_hash)?
                else {
                    return Ok::<_, AppError>(Rotation::Invalid);
                };
                if token.spent_at.is_some() || !queries::spend_refresh_token(conn, &token.id)? {
                    queries::revoke_session(conn, session.id)?;
                    return Ok(Rotation::Reused);
                }
                let live = session.revoked_at.is_none()
                    && session.expires_at > Utc::now().naive_utc()
                    && account.active;
                if !live {
                    return Ok(Rotation::Invalid);
                }
                queries::insert_refresh_token(conn, session.id, &next_hash)?;
                Ok(Rotation::Rotated(Box::new(account), session.id))
            })
        })
        .await?;
    match outcome {
        Rotation::Rotated(account, session) => token_pair(state, &account, session, next_token),
        Rotation::Reused => {
            tracing::warn!("a spent refresh token was presented; its session is revoked");
            Err(AppError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; the session is revoked, log in again",
            ))
        }
        Rotation::Invalid => Err(invalid_refresh_token()),
    }
}

pub async fn logout(state: &AppState, session: AuthSessionId) -> AppResult<()> {
    state
        .db(move |conn| Ok(queries::revoke_session(conn, session)?))
        .await
}

/// Opens a console session for a verified account: the cookie's secret
/// (returned) and the session it stands for. It lasts a working day.
pub async fn open_console_session(state: &AppState, account: &AccountRow) -> AppResult<String> {
    let secret = tokens::generate();
    let digest = tokens::digest(&secret);
    let account_id = account.id;
    state
        .write(move |conn| {
            Ok(queries::create_console_session(
                conn,
                account_id,
                Utc::now().naive_utc() + Duration::hours(12),
                &digest,
            )?)
        })
        .await?;
    tracing::info!(account_id = %account.id, "console login succeeded");
    Ok(secret)
}
