//! The ICT consultation desk: tickets taken by visit, phone, email, FAX or
//! web, a walk-in queue per venue and day, states, assignment, a timeline of
//! notes and replies, and statistics.

pub mod duty;
pub mod duty_routes;
pub mod jobs;
pub mod queries;
pub mod routes;
pub mod service;
pub mod sla;
pub mod stats;
pub mod types;
