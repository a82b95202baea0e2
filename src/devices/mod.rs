//! Loaner devices: the pool each venue keeps, reservations for sessions,
//! and loans (during a session or for days at home).

pub mod loans;
pub mod queries;
pub mod routes;
pub mod types;
