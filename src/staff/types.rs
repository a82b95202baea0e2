//! Staff accounts: roles, the parsed fields of a request, the stored row and
//! the answer shape.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::staff_accounts;
use crate::db::{AccountId, OrganisationId};

pub use crate::auth::accounts::AccountRow;
pub use crate::auth::roles::Role;
pub use crate::validate::Email;

/// A person's display name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<PersonName, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        if name.chars().count() > 100 {
            return Err("must be at most 100 characters".into());
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(PersonName(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

pub use crate::validate::optional_text;

#[derive(Debug, Insertable)]
#[diesel(table_name = staff_accounts)]
pub struct NewAccountRow<'a> {
    pub id: AccountId,
    pub organisation_id: OrganisationId,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub affiliation: Option<&'a str>,
    pub password_hash: &'a str,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A staff account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffAccount {
    pub id: AccountId,
    pub organisation_id: OrganisationId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub affiliation: Option<String>,
    /// The venue they work at.
    pub venue_id: Option<crate::db::VenueId>,
    pub active: bool,
    /// Set for bootstrap accounts and after an admin reset: the holder must
    /// choose a new password before doing anything else.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<AccountRow> for StaffAccount {
    type Error = anyhow::Error;
    fn try_from(row: AccountRow) -> anyhow::Result<Self> {
        Ok(StaffAccount {
            role: row.role()?,
            id: row.id,
            organisation_id: row.organisation_id,
            email: row.email,
            name: row.name,
            affiliation: row.affiliation,
            venue_id: row.venue_id,
            active: row.active,
            must_change_password: row.must_change_password,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Initial password (12–128 characters).
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// The centre, NPO, carrier shop … the person comes from.
    #[serde(default)]
    pub affiliation: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStaff {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// An empty string clears it.
    pub affiliation: Option<String>,
    /// The venue they work at (volunteers and instructors see its call
    /// list); `null` clears it.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub venue_id: Option<Option<uuid::Uuid>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// A temporary password; the holder must change it at the next login.
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeOwnPassword {
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StaffFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Part of the name or email.
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<uuid::Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Sato@Example.JP ").unwrap().as_str(),
            "sato@example.jp"
        );
    }

    #[test]
    fn implausible_emails_are_refused() {
        for bad in [
            "",
            "sato",
            "sato@",
            "@example.jp",
            "sato@example",
            "sa to@example.jp",
            "a@b@c.jp",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  佐藤 花子 ").unwrap().into_inner(),
            "佐藤 花子"
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"あ".repeat(101)).is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn roles_round_trip() {
        for role in [
            Role::Admin,
            Role::Coordinator,
            Role::Instructor,
            Role::Volunteer,
        ] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
