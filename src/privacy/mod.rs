//! Residents' rights under Japan's personal-information law (APPI):
//! everything held about a person (`service::export`), erasure that keeps
//! the anonymous facts reports count (`service::erase`), and the retention
//! job. Sits above residents, bookings, devices, fees and tickets; nothing
//! below imports it.

pub mod routes;
pub mod service;
