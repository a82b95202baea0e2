//! Resident rows, requests and answers.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::names;
use crate::db::schema::residents;
use crate::db::{AccountId, OrganisationId, ResidentId};
use crate::error::AppResult;
use crate::validate::{Checker, optional_text, required_text};

pub const ACCESSIBILITY_NEEDS: &[&str] = &[
    "large_print",
    "hearing",
    "visual",
    "mobility",
    "wheelchair",
    "cognitive",
    "interpreter",
];
pub const DEVICES: &[&str] = &["none", "feature_phone", "android", "iphone", "tablet"];
pub const AGE_BANDS: &[&str] = &["under_60", "60s", "70s", "80s", "90_plus"];

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = residents)]
pub struct ResidentRow {
    pub id: ResidentId,
    pub organisation_id: OrganisationId,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub search_text: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birth_year: Option<i32>,
    pub age_band: Option<String>,
    pub district: Option<String>,
    pub accessibility_needs: String,
    pub contact_preference: String,
    pub consent_contact: bool,
    pub consent_data: bool,
    pub device: Option<String>,
    pub notes: Option<String>,
    pub merged_into: Option<ResidentId>,
    pub created_by: Option<AccountId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ResidentRow {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.family_name, self.given_name)
    }
}

/// The text search runs over: names and kana, folded (see `names::fold`).
pub fn search_text(family: &str, given: &str, family_kana: &str, given_kana: &str) -> String {
    format!(
        "{}|{}|{}{}",
        names::fold(&format!("{family}{given}")),
        names::fold(&format!("{family_kana}{given_kana}")),
        names::fold(given),
        names::fold(given_kana)
    )
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resident {
    pub id: ResidentId,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    /// Digits only, domestic form, e.g. `09012345678`. Absent in a limited view.
    pub phone: Option<String>,
    /// The last four digits of the phone: enough to tell two 伊藤花 apart
    /// on the phone, shown in every view.
    pub phone_last_digits: Option<String>,
    /// `full`, or `limited` for staff outside the resident's sessions and
    /// tickets: then contact details, district, needs, device and notes are
    /// left out (see docs/access.md).
    pub view: String,
    pub email: Option<String>,
    pub birth_year: Option<i32>,
    pub age_band: Option<String>,
    pub district: Option<String>,
    pub accessibility_needs: Vec<String>,
    /// `phone`, `email` or `none`.
    pub contact_preference: String,
    /// Agreed to be contacted (reminders, changes).
    pub consent_contact: bool,
    /// Agreed to their data being kept for the programme.
    pub consent_data: bool,
    /// The device they own: none, feature_phone, android, iphone, tablet.
    pub device: Option<String>,
    pub notes: Option<String>,
    /// Set when this record was merged into another.
    pub merged_into: Option<ResidentId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ResidentRow> for Resident {
    fn from(r: ResidentRow) -> Self {
        Resident {
            id: r.id,
            family_name: r.family_name,
            given_name: r.given_name,
            family_name_kana: r.family_name_kana,
            given_name_kana: r.given_name_kana,
            phone_last_digits: r.phone.as_deref().map(last_digits),
            phone: r.phone,
            view: "full".into(),
            email: r.email,
            birth_year: r.birth_year,
            age_band: r.age_band,
            district: r.district,
            accessibility_needs: r
                .accessibility_needs
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            contact_preference: r.contact_preference,
            consent_contact: r.consent_contact,
            consent_data: r.consent_data,
            device: r.device,
            notes: r.notes,
            merged_into: r.merged_into,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

fn last_digits(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

impl Resident {
    /// What identifies the person and nothing else: name, kana, birth year
    /// (and the band derived from it), the last digits of the phone.
    pub fn limited(self) -> Resident {
        Resident {
            phone: None,
            email: None,
            district: None,
            accessibility_needs: Vec::new(),
            device: None,
            notes: None,
            view: "limited".into(),
            ..self
        }
    }

    /// The resident as `view` allows.
    pub fn shaped(self, view: crate::auth::access::View) -> Resident {
        match view {
            crate::auth::access::View::Full => self,
            crate::auth::access::View::Limited => self.limited(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResidentDetail {
    #[serde(flatten)]
    pub resident: Resident,
    /// Sessions attended (present or late).
    pub attended_count: i64,
    pub no_show_count: i64,
}

/// Create a resident; on update every field is optional and an empty string
/// clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentInput {
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    /// Hiragana or katakana; stored in katakana.
    pub family_name_kana: Option<String>,
    pub given_name_kana: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birth_year: Option<i64>,
    pub age_band: Option<String>,
    pub district: Option<String>,
    pub accessibility_needs: Option<Vec<String>>,
    pub contact_preference: Option<String>,
    pub consent_contact: Option<bool>,
    pub consent_data: Option<bool>,
    pub device: Option<String>,
    pub notes: Option<String>,
    /// Create even though a resident with the same phone, or the same kana
    /// and birth year, exists.
    #[serde(default)]
    pub confirm_new_person: bool,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = residents)]
pub struct ResidentChanges {
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name_kana: Option<String>,
    pub given_name_kana: Option<String>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub birth_year: Option<Option<i32>>,
    pub age_band: Option<Option<String>>,
    pub district: Option<Option<String>>,
    pub accessibility_needs: Option<String>,
    pub contact_preference: Option<String>,
    pub consent_contact: Option<bool>,
    pub consent_data: Option<bool>,
    pub device: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub search_text: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

fn one_of(value: &str, allowed: &[&str]) -> Result<String, String> {
    if allowed.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(format!("must be one of {}", allowed.join(", ")))
    }
}

impl ResidentInput {
    /// Checks every given field; `creating` makes the names required.
    pub fn parse(&self, creating: bool) -> AppResult<ResidentChanges> {
        let mut v = Checker::new();
        if creating {
            for (field, value) in [
                ("family_name", &self.family_name),
                ("given_name", &self.given_name),
                ("family_name_kana", &self.family_name_kana),
                ("given_name_kana", &self.given_name_kana),
            ] {
                if value.is_none() {
                    v.fail(field, "is required");
                }
            }
        }
        let text = |v: &mut Checker, field: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|t| v.check(field, required_text(t, 50)))
        };
        let family_name = text(&mut v, "family_name", &self.family_name);
        let given_name = text(&mut v, "given_name", &self.given_name);
        let family_name_kana = self
            .family_name_kana
            .as_deref()
            .map(|t| v.check("family_name_kana", names::kana(t)));
        let given_name_kana = self
            .given_name_kana
            .as_deref()
            .map(|t| v.check("given_name_kana", names::kana(t)));
        let phone = self.phone.as_deref().map(|p| {
            if p.trim().is_empty() {
                None
            } else {
                Some(v.check("phone", names::normalise_phone(p)))
            }
        });
        let email = self.email.as_deref().map(|e| {
            if e.trim().is_empty() {
                None
            } else {
                Some(v.check(
                    "email",
                    crate::validate::Email::parse(e).map(|e| e.as_str().to_owned()),
                ))
            }
        });
        let this_year = Utc::now().year() as i64;
        let birth_year = self.birth_year.map(|y| {
            if (this_year - 120..=this_year).contains(&y) {
                Some(y as i32)
            } else {
                v.fail(
                    "birth_year",
                    format!("must be between {} and {this_year}", this_year - 120),
                );
                None
            }
        });
        let age_band = self.age_band.as_deref().map(|a| {
            if a.is_empty() {
                None
            } else {
                Some(v.check("age_band", one_of(a, AGE_BANDS)))
            }
        });
        let device = self.device.as_deref().map(|d| {
            if d.is_empty() {
                None
            } else {
                Some(v.check("device", one_of(d, DEVICES)))
            }
        });
        let contact_preference = self
            .contact_preference
            .as_deref()
            .map(|c| v.check("contact_preference", one_of(c, &["phone", "email", "none"])));
        let accessibility_needs = self.accessibility_needs.as_ref().map(|needs| {
            let mut list: Vec<String> = needs
                .iter()
                .map(|n| v.check("accessibility_needs", one_of(n, ACCESSIBILITY_NEEDS)))
                .collect();
            list.sort();
            list.dedup();
            list.join(",")
        });
        let district = self
            .district
            .as_deref()
            .map(|d| v.check("district", optional_text(Some(d), 100)));
        let notes = self
            .notes
            .as_deref()
            .map(|n| v.check("notes", optional_text(Some(n), 2000)));
        if contact_preference.as_deref() == Some("email")
            && creating
            && email.clone().flatten().is_none()
        {
            v.fail("email", "is required when the contact preference is email");
        }
        v.finish()?;
        Ok(ResidentChanges {
            family_name,
            given_name,
            family_name_kana,
            given_name_kana,
            phone,
            email,
            birth_year,
            age_band,
            district,
            accessibility_needs,
            contact_preference,
            consent_contact: self.consent_contact,
            consent_data: self.consent_data,
            device,
            notes,
            search_text: None,
            updated_at: None,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResidentFilter {
    /// Name or kana in any script or width (`ﾔﾏﾀﾞ` finds やまだ and ヤマダ), or
    /// any part of the phone number (3 digits or more).
    pub q: Option<String>,
    pub district: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<uuid::Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeResidents {
    /// The duplicate record; its bookings move to the resident in the path
    /// and it is marked as merged.
    pub duplicate_id: uuid::Uuid,
}
