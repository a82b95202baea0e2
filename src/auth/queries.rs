//! Auth sessions (one per login, the chain of its refresh tokens) and the
//! caller look-up.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::accounts::AccountRow;
use crate::db::schema::{auth_sessions, refresh_tokens, staff_accounts};
use crate::db::{AccountId, AuthSessionId, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub session_id: AuthSessionId,
    pub spent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth_sessions)]
pub struct AuthSessionRow {
    pub id: AuthSessionId,
    pub account_id: AccountId,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn create_session(
    conn: &mut DbConnection,
    account: AccountId,
    expires_at: NaiveDateTime,
) -> QueryResult<AuthSessionId> {
    let id = AuthSessionId::generate();
    diesel::insert_into(auth_sessions::table)
        .values((
            auth_sessions::id.eq(id),
            auth_sessions::account_id.eq(account),
            auth_sessions::created_at.eq(now()),
            auth_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn insert_refresh_token(
    conn: &mut DbConnection,
    session: AuthSessionId,
    token_hash: &str,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            refresh_tokens::session_id.eq(session),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::created_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<(RefreshTokenRow, AuthSessionRow, AccountRow)>> {
    refresh_tokens::table
        .inner_join(auth_sessions::table.inner_join(staff_accounts::table))
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            RefreshTokenRow::as_select(),
            AuthSessionRow::as_select(),
            AccountRow::as_select(),
        ))
        .first(conn)
        .optional()
}

/// Marks a token spent; `false` when it already was (a concurrent or replayed
/// use), which the caller treats as reuse.
pub fn spend_refresh_token(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    let updated = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::spent_at.is_null()),
    )
    .set(refresh_tokens::spent_at.eq(now()))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_session(conn: &mut DbConnection, session: AuthSessionId) -> QueryResult<()> {
    diesel::update(
        auth_sessions::table
            .filter(auth_sessions::id.eq(session))
            .filter(auth_sessions::revoked_at.is_null()),
    )
    .set(auth_sessions::revoked_at.eq(now()))
    .execute(conn)
    .map(|_| ())
}

/// Revokes every live session of an account, except `keep` if given.
pub fn revoke_sessions_of(
    conn: &mut DbConnection,
    account: AccountId,
    keep: Option<AuthSessionId>,
) -> QueryResult<usize> {
    let mut query = diesel::update(auth_sessions::table)
        .filter(auth_sessions::account_id.eq(account))
        .filter(auth_sessions::revoked_at.is_null())
        .into_boxed();
    if let Some(keep) = keep {
        query = query.filter(auth_sessions::id.ne(keep));
    }
    query.set(auth_sessions::revoked_at.eq(now())).execute(conn)
}

/// The account behind a token, if the account is active and the session is
/// live. One query per authenticated request.
pub fn live_account(
    conn: &mut DbConnection,
    account: AccountId,
    session: AuthSessionId,
) -> QueryResult<Option<AccountRow>> {
    staff_accounts::table
        .inner_join(auth_sessions::table)
        .filter(staff_accounts::id.eq(account))
        .filter(staff_accounts::active.eq(true))
        .filter(auth_sessions::id.eq(session))
        .filter(auth_sessions::revoked_at.is_null())
        .filter(auth_sessions::expires_at.gt(now()))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Opens a console (browser) session: an auth session whose secret is the
/// cookie's, stored as a digest.
pub fn create_console_session(
    conn: &mut DbConnection,
    account: AccountId,
    expires_at: NaiveDateTime,
    token_hash: &str,
) -> QueryResult<AuthSessionId> {
    let id = AuthSessionId::generate();
    diesel::insert_into(auth_sessions::table)
        .values((
            auth_sessions::id.eq(id),
            auth_sessions::account_id.eq(account),
            auth_sessions::created_at.eq(now()),
            auth_sessions::expires_at.eq(expires_at),
            auth_sessions::console_token_hash.eq(token_hash),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The live account and session behind a console cookie's digest.
pub fn console_account(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<(AccountRow, AuthSessionId)>> {
    staff_accounts::table
        .inner_join(auth_sessions::table)
        .filter(auth_sessions::console_token_hash.eq(token_hash))
        .filter(staff_accounts::active.eq(true))
        .filter(auth_sessions::revoked_at.is_null())
        .filter(auth_sessions::expires_at.gt(now()))
        .select((AccountRow::as_select(), auth_sessions::id))
        .first(conn)
        .optional()
}
