//! Staff roles, and the role sets that handlers require. Shared by every
//! feature, so it lives with authentication rather than with staff accounts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sets up the organisation, staff accounts, venues and calendars.
    Admin,
    /// Centre staff: books, moves and cancels; runs the schedule; triages tickets.
    Coordinator,
    /// Teaches sessions, marks attendance, lends devices.
    Instructor,
    /// Works the consultation tickets assigned to them.
    Volunteer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Instructor => "instructor",
            Role::Volunteer => "volunteer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "coordinator" => Ok(Role::Coordinator),
            "instructor" => Ok(Role::Instructor),
            "volunteer" => Ok(Role::Volunteer),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

/// Who may change the schedule, the register and the money: the office.
pub const WRITERS: &[Role] = &[Role::Admin, Role::Coordinator];
