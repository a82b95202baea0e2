//! Fees, payments and refunds in integer yen. Payments and refunds are
//! records that are never edited; receipt numbers run per organisation and
//! fiscal year (April–March).

pub mod queries;
pub mod routes;
pub mod service;
