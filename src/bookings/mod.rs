//! Bookings: a resident's seat (or waitlist place) in a session, entered by
//! staff; cancellations with waitlist promotion; walk-ins and attendance.

pub mod enrolment;
pub mod queries;
pub mod reference;
pub mod routes;
pub mod service;
pub mod types;
