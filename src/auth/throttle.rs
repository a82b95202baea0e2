//! Login throttling over a sliding window. Failures are rows in the
//! database, so every server instance sees the same counts. Three keys:
//!
//! - account *and* client address: the tight limit (`max_per_account`), so
//!   one client guessing one password is stopped quickly;
//! - client address: `max_per_address`, whatever the accounts tried;
//! - account from any client: a much higher ceiling with growing delays
//!   before it, which stops a distributed guess but does not apply to a
//!   client the account has logged in from before ("known"), so a stranger
//!   who knows a coordinator's address cannot lock them out of their desk.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::auth::tokens;
use crate::db::DbConnection;
use crate::db::schema::{known_login_clients, login_failures};

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub window: Duration,
    /// Per account and client address.
    pub max_per_account: u32,
    pub max_per_address: u32,
    /// Per account from clients it has never logged in from.
    pub max_per_account_any_client: u32,
    /// A client stays known this long after its last successful login.
    pub known_client_days: i64,
}

fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Account and client address together.
pub fn pair_key(email: &str, ip: &str) -> String {
    format!("pair:{}|{ip}", email_key(email))
}

pub fn account_key(email: &str) -> String {
    format!("account:{}", email_key(email))
}

pub fn address_key(ip: &str) -> String {
    format!("address:{ip}")
}

fn known_key(email: &str, ip: &str) -> String {
    tokens::digest(&format!("known:{}|{ip}", email_key(email)))
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

/// Growing delays before the account-wide ceiling: from half the ceiling on,
/// each further failure doubles the wait after the latest one (1 s, 2 s,
/// 4 s … at most the window).
pub fn growing_delay(
    failures_in_window: &[NaiveDateTime],
    max: u32,
    window: Duration,
    now: NaiveDateTime,
) -> Option<u64> {
    let start = (max / 2).max(1) as usize;
    let n = failures_in_window.len();
    if n < start {
        return None;
    }
    let exponent = u32::try_from(n - start).unwrap_or(u32::MAX).min(20);
    let delay = (1i64 << exponent).min(window.num_seconds());
    let latest = failures_in_window.iter().max()?;
    let wait = (*latest + Duration::seconds(delay) - now).num_seconds();
    (wait > 0).then_some(wait as u64)
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

/// Whether this client logged into the account within `known_client_days`.
fn is_known(conn: &mut DbConnection, policy: &Policy, email: &str, ip: &str) -> QueryResult<bool> {
    let since = Utc::now().naive_utc() - Duration::days(policy.known_client_days);
    known_login_clients::table
        .filter(known_login_clients::client_key.eq(known_key(email, ip)))
        .filter(known_login_clients::last_login_at.gt(since))
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// How long the caller must wait, if any of its keys is over its limit.
pub fn check(
    conn: &mut DbConnection,
    policy: &Policy,
    email: &str,
    ip: &str,
) -> QueryResult<Option<u64>> {
    let now = Utc::now().naive_utc();
    let since = now - policy.window;
    let by_pair = failures(conn, &pair_key(email, ip), since)?;
    let by_address = failures(conn, &address_key(ip), since)?;
    let mut waits = vec![
        retry_after(&by_pair, policy.max_per_account, policy.window, now),
        retry_after(&by_address, policy.max_per_address, policy.window, now),
    ];
    if !is_known(conn, policy, email, ip)? {
        let by_account = failures(conn, &account_key(email), since)?;
        let max = policy.max_per_account_any_client;
        waits.push(retry_after(&by_account, max, policy.window, now));
        waits.push(growing_delay(&by_account, max, policy.window, now));
    }
    Ok(waits.into_iter().flatten().max())
}

/// Records one failed attempt for every key and prunes what left the window.
pub fn record_failure(
    conn: &mut DbConnection,
    policy: &Policy,
    email: &str,
    ip: &str,
) -> QueryResult<()> {
    let now = Utc::now().naive_utc();
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(now - policy.window)))
        .execute(conn)?;
    for key in [pair_key(email, ip), account_key(email), address_key(ip)] {
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

/// A successful login clears the failures of this account from this client
/// (not the address's, nor the account's elsewhere) and remembers the client.
pub fn record_success(conn: &mut DbConnection, email: &str, ip: &str) -> QueryResult<()> {
    diesel::delete(
        login_failures::table.filter(login_failures::throttle_key.eq(pair_key(email, ip))),
    )
    .execute(conn)?;
    let key = known_key(email, ip);
    let now = Utc::now().naive_utc();
    let updated = diesel::update(known_login_clients::table.find(&key))
        .set(known_login_clients::last_login_at.eq(now))
        .execute(conn)?;
    if updated == 0 {
        // Two parallel first logins from one client: the loser's insert
        // conflicts, and the row is there either way.
        let _ = conn.transaction(|conn| {
            diesel::insert_into(known_login_clients::table)
                .values((
                    known_login_clients::client_key.eq(&key),
                    known_login_clients::last_login_at.eq(now),
                ))
                .execute(conn)
        });
    }
    Ok(())
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
    fn growing_delays_double_from_half_the_ceiling() {
        let window = Duration::seconds(900);
        let f: Vec<_> = (0..4).map(at).collect();
        assert_eq!(
            growing_delay(&f, 10, window, at(3)),
            None,
            "4 of 10: no delay"
        );
        let f: Vec<_> = (0..5).map(at).collect();
        assert_eq!(growing_delay(&f, 10, window, at(4)), Some(1));
        let f: Vec<_> = (0..8).map(at).collect();
        assert_eq!(growing_delay(&f, 10, window, at(7)), Some(8));
        assert_eq!(
            growing_delay(&f, 10, window, at(20)),
            None,
            "the delay has passed"
        );
        let f: Vec<_> = (0..60).map(at).collect();
        assert_eq!(
            growing_delay(&f, 100, window, at(59)),
            Some(900),
            "capped at the window"
        );
    }

    #[test]
    fn emails_share_a_key_whatever_their_case() {
        assert_eq!(
            account_key(" Sato@Example.jp"),
            account_key("sato@example.jp")
        );
    }
}
