//! The consultation desk's background job: a resolved ticket closes by
//! itself after `tickets.auto_close_days`.

use std::time::Duration;

use chrono::Utc;

use crate::db::{DbConnection, write_tx};
use crate::error::AppError;
use crate::jobs::{self, Job};

pub const LEASE: &str = "close_tickets";

/// Closes tickets resolved more than `days` ago, under its own lease.
pub fn close_resolved_tickets(
    conn: &mut DbConnection,
    days: i64,
    holder: &str,
) -> Result<Option<usize>, AppError> {
    jobs::run_once(conn, &job(days, 0), holder)
}

/// The job as the jobs loop runs it, every `interval_secs`.
pub fn job(days: i64, interval_secs: u64) -> Job {
    Job {
        name: LEASE,
        every: Duration::from_secs(interval_secs),
        run: Box::new(move |conn| {
            let cutoff = Utc::now().naive_utc() - chrono::Duration::days(days);
            write_tx(conn, |conn| {
                Ok(super::queries::close_resolved_before(conn, cutoff)?.len())
            })
        }),
    }
}
