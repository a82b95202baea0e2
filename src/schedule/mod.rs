//! The schedule: closures, recurring series, dated sessions with live seat
//! counts, the job that keeps sessions materialised, and calendar feeds.

pub mod holidays;
pub mod recurrence;
