//! madoguchi: the booking, attendance and consultation desk of municipal
//! digital-support programmes. `main.rs` parses the command line and calls
//! into this library; see docs/architecture.md for the map.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod bookings;
pub mod bootstrap;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod console;
pub mod courses;
pub mod db;
pub mod devices;
pub mod error;
pub mod export;
pub mod fees;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod organisations;
pub mod pagination;
pub mod privacy;
pub mod reports;
pub mod residents;
pub mod schedule;
pub mod staff;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tickets;
pub mod validate;
pub mod venues;
