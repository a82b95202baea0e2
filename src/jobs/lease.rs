//! Leases: one row per job in `job_leases`. Claiming is a conditional
//! update (free, or expired), so exactly one instance wins; a crashed
//! holder's lease simply runs out.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::job_leases;

/// Makes sure the job's lease row exists (a job added after the migrations
/// that seeded the others). Two instances racing here is fine: one insert
/// wins, the other's unique violation is swallowed in its savepoint.
pub fn ensure(conn: &mut DbConnection, name: &str) -> QueryResult<()> {
    let exists: bool = diesel::select(diesel::dsl::exists(
        job_leases::table.filter(job_leases::name.eq(name)),
    ))
    .get_result(conn)?;
    if !exists {
        let _ = conn.transaction(|conn| {
            diesel::insert_into(job_leases::table)
                .values((
                    job_leases::name.eq(name),
                    job_leases::holder.eq(None::<String>),
                    job_leases::lease_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)
        });
    }
    Ok(())
}

/// Claims a named job lease until `until` if it is free or expired; `true`
/// when this holder got it. One conditional update: two instances cannot
/// both win.
pub fn claim(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let now = Utc::now().naive_utc();
    let updated = diesel::update(
        job_leases::table.filter(job_leases::name.eq(name)).filter(
            job_leases::lease_until
                .is_null()
                .or(job_leases::lease_until.lt(now)),
        ),
    )
    .set((
        job_leases::holder.eq(holder),
        job_leases::lease_until.eq(until),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn release(conn: &mut DbConnection, name: &str, holder: &str) -> QueryResult<()> {
    diesel::update(
        job_leases::table
            .filter(job_leases::name.eq(name))
            .filter(job_leases::holder.eq(holder)),
    )
    .set(job_leases::lease_until.eq(None::<NaiveDateTime>))
    .execute(conn)
    .map(|_| ())
}

/// Gives up every lease this holder has (a shutdown whose job did not finish
/// in time): the number given up.
pub fn release_all(conn: &mut DbConnection, holder: &str) -> QueryResult<usize> {
    diesel::update(
        job_leases::table
            .filter(job_leases::holder.eq(holder))
            .filter(job_leases::lease_until.is_not_null()),
    )
    .set(job_leases::lease_until.eq(None::<NaiveDateTime>))
    .execute(conn)
}
