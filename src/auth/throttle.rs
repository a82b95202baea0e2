//! Login throttling over a sliding window, per account (email) and per client
//! address. Failures are rows in the database, so every server instance sees
//! the same counts.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::login_failures;

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub window: Duration,
    pub max_per_account: u32,
    pub max_per_address: u32,
}

pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

pub fn address_key(ip: &str) -> String {
    format!("address:{ip}")
}

/// Seconds until the key may try again, when it is over its limit: the
/// oldest failure inside the window leaves the window then.
pub fn retry_after(
    failures_in_window: &[NaiveDateTime],
    max: u32,
    window: Duration,
    now: NaiveDateTime,
) -> Option<u64> {
    if failures_in_window.len() < max as usize {
        return None;
    }
    let oldest = failures_in_window.iter().min()?;
    let free_at = *oldest + window;
    let secs = (free_at - now).num_seconds().max(1);
    Some(secs as u64)
}

fn failures(
    conn: &mut DbConnection,
    key: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    login_failures::table
        .filter(login_failures::throttle_key.eq(key))
        .filter(login_failures::failed_at.gt(since))
        .select(login_failures::failed_at)
        .load(conn)
}

/// How long the caller must wait, if either key is over its limit.
pub fn check(
    conn: &mut DbConnection,
    policy: &Policy,
    email: &str,
    ip: &str,
) -> QueryResult<Option<u64>> {
    let now = Utc::now().naive_utc();
    let since = now - policy.window;
    let by_account = failures(conn, &account_key(email), since)?;
    let by_address = failures(conn, &address_key(ip), since)?;
    Ok([
        retry_after(&by_account, policy.max_per_account, policy.window, now),
        retry_after(&by_address, policy.max_per_address, policy.window, now),
    ]
    .into_iter()
    .flatten()
    .max())
}

/// Records one failed attempt for both keys and prunes what left the window.
pub fn record_failure(
    conn: &mut DbConnection,
    policy: &Policy,
    email: &str,
    ip: &str,
) -> QueryResult<()> {
    let now = Utc::now().naive_utc();
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(now - policy.window)))
        .execute(conn)?;
    for key in [account_key(email), address_key(ip)] {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
                login_failures::throttle_key.eq(key),
                login_failures::failed_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A successful login clears the account's failures (not the address's).
pub fn clear_account(conn: &mut DbConnection, email: &str) -> QueryResult<()> {
    diesel::delete(
        login_failures::table.filter(login_failures::throttle_key.eq(account_key(email))),
    )
    .execute(conn)
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn under_the_limit_there_is_no_wait() {
        let window = Duration::seconds(900);
        assert_eq!(retry_after(&[at(0), at(10)], 3, window, at(20)), None);
    }

    #[test]
    fn at_the_limit_the_wait_ends_when_the_oldest_failure_leaves_the_window() {
        let window = Duration::seconds(900);
        assert_eq!(
            retry_after(&[at(10), at(0), at(20)], 3, window, at(100)),
            Some(800)
        );
    }

    #[test]
    fn the_wait_is_never_zero() {
        let window = Duration::seconds(900);
        assert_eq!(retry_after(&[at(0)], 1, window, at(900)), Some(1));
    }

    #[test]
    fn emails_share_a_key_whatever_their_case() {
        assert_eq!(
            account_key(" Sato@Example.jp"),
            account_key("sato@example.jp")
        );
    }
}
