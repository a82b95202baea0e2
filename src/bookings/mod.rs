//! Bookings: a resident's seat (or waitlist place) in a session, entered by
//! staff; cancellations with waitlist promotion or held offers; lotteries;
//! walk-ins and attendance.

pub mod enrolment;
pub mod enrolment_queries;
pub mod enrolment_routes;
pub mod group;
pub mod loaners;
pub mod lottery;
pub mod lottery_routes;
pub mod merge;
pub mod merge_routes;
pub mod offer_routes;
pub mod offers;
pub mod queries;
pub mod reference;
pub mod reminders;
pub mod routes;
pub mod service;
pub mod session_routes;
pub mod types;
