//! The audit log: who changed what, written in the same transaction as the
//! change, and readable by admins.

pub mod queries;
pub mod routes;
pub mod types;

pub use queries::{entry, record, record_all};
pub use types::Actor;
