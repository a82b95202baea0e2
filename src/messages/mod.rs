//! Messages that reach residents: the mail outbox (written in the
//! transaction of the change, delivered by a job with lettre) and the call
//! list for residents who get calls instead of mail.
//!
//! It sits above residents, venues, courses, schedule and organisations
//! (it reads them to write a letter) and below bookings and tickets (they
//! call `compose` inside their transactions).

pub mod calls;
pub mod compose;
pub mod delivery;
pub mod letters;
pub mod queries;
pub mod routes;
pub mod transport;
pub mod types;
