//! Loaner devices: the pool each venue keeps, reservations for sessions,
//! and loans (during a session or for days at home).

pub mod loan_routes;
pub mod queries;
pub mod routes;
pub mod service;
pub mod types;
