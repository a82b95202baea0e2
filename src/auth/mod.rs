//! Staff authentication: passwords, access tokens, refresh-token chains,
//! login throttling, and the `Caller` extractor every handler uses.

pub mod access;
pub mod accounts;
pub mod caller;
pub mod jwt;
pub mod password;
pub mod queries;
pub mod roles;
pub mod routes;
pub mod service;
pub mod throttle;
pub mod tokens;

pub use caller::{Bearer, Caller, PendingCaller};
pub use roles::{Role, WRITERS};
