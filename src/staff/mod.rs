//! Staff accounts of an organisation: created and managed by admins; every
//! account reads itself and changes its own password at `/me`.

pub mod me;
pub mod queries;
pub mod routes;
pub mod service;
pub mod types;
