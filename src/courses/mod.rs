//! Courses (what is taught) and topics (the vocabulary courses are tagged
//! with: a shared list seeded by migration, extendable per organisation).

pub mod eligibility;
pub mod queries;
pub mod routes;
pub mod service;
pub mod types;
