//! Venues: community centres, salons, shop fronts and online rooms where
//! sessions take place.

pub mod hours_routes;
pub mod queries;
pub mod routes;
pub mod service;
pub mod types;
