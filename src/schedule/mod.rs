//! The schedule: closures, recurring series, dated sessions with live seat
//! counts, the job that keeps sessions materialised, and calendar feeds.

pub mod allocation;
pub mod closure_routes;
pub mod feed_routes;
pub mod job;
pub mod list_cache;
pub mod queries;
pub mod recurrence;
pub mod series_routes;
pub mod service;
pub mod session_routes;
pub mod sessions;
pub mod types;
