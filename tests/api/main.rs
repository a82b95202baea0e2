//! Black-box API tests: each test starts the app on a random port against
//! its own database and runs once on SQLite and once on PostgreSQL.

mod helpers;

mod access;
mod audit;
mod auth;
mod backup;
mod bookings;
mod calendar;
mod cli;
mod concurrency;
mod console;
mod enrolments;
mod errors;
mod groups;
mod health;
mod inputs;
mod instances;
mod isolation;
mod jobs;
mod loaners;
mod lottery;
mod mail;
mod migrations;
mod openapi;
mod programmes;
mod reports;
mod residents;
mod schedule;
mod schedule_job;
mod staff;
mod tickets;
mod venues;
