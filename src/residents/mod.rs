//! Residents: the people staff book for. They never log in.

pub mod names;
pub mod queries;
pub mod routes;
pub mod service;
pub mod types;
