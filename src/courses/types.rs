//! Course and topic rows, requests and answers.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::eligibility::Eligibility;
use crate::db::schema::{courses, topics};
use crate::db::{CourseId, OrganisationId};
use crate::error::AppResult;
use crate::validate::{Checker, optional_text, positive, required_text, yen};

pub const MAX_FEE_YEN: i64 = 1_000_000;
pub const MAX_LENGTH_MINUTES: i64 = 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CourseKind {
    /// A class with a fixed start and a seat limit.
    Class,
    /// Drop-in support hours (デジタルカフェ).
    Cafe,
    /// Bookable one-to-one consultation slots.
    Consultation,
}

impl CourseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CourseKind::Class => "class",
            CourseKind::Cafe => "cafe",
            CourseKind::Consultation => "consultation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Basic,
    Applied,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Basic => "basic",
            Level::Applied => "applied",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = courses)]
pub struct CourseRow {
    pub id: CourseId,
    pub organisation_id: OrganisationId,
    pub title: String,
    pub description: Option<String>,
    pub audience: Option<String>,
    pub level: Option<String>,
    pub kind: String,
    pub default_fee_yen: i32,
    pub default_length_minutes: i32,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    pub districts: Option<String>,
}

impl CourseRow {
    pub fn eligibility(&self) -> Eligibility {
        Eligibility::from_stored(self.min_age, self.max_age, self.districts.as_deref())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Course {
    pub id: CourseId,
    pub title: String,
    pub description: Option<String>,
    /// Who it is for, e.g. "65歳以上・スマホを持っていない方も可".
    pub audience: Option<String>,
    pub level: Option<String>,
    /// `class`, `cafe` or `consultation`.
    pub kind: String,
    pub default_fee_yen: i32,
    pub default_length_minutes: i32,
    /// Topic codes, e.g. `line_and_social`, `my_number_card`.
    pub topics: Vec<String>,
    /// Who may join (age on the session date, districts); bookings of
    /// others are refused unless a coordinator overrides with a reason.
    pub eligibility: Eligibility,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Course {
    pub fn new(r: CourseRow, topics: Vec<String>) -> Self {
        Course {
            eligibility: r.eligibility(),
            id: r.id,
            title: r.title,
            description: r.description,
            audience: r.audience,
            level: r.level,
            kind: r.kind,
            default_fee_yen: r.default_fee_yen,
            default_length_minutes: r.default_length_minutes,
            topics,
            active: r.active,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// Create a course; on update every field is optional and an empty string
/// clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub audience: Option<String>,
    pub level: Option<Level>,
    pub kind: Option<CourseKind>,
    pub default_fee_yen: Option<i64>,
    pub default_length_minutes: Option<i64>,
    /// Topic codes (see `GET /api/v1/topics`); replaces the list on update.
    pub topics: Option<Vec<String>>,
    /// `true` restores an archived course.
    pub active: Option<bool>,
    /// Who may join; replaces the rule on update (`{}` admits everyone).
    pub eligibility: Option<Eligibility>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = courses)]
pub struct CourseChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub audience: Option<Option<String>>,
    pub level: Option<Option<String>>,
    pub kind: Option<String>,
    pub default_fee_yen: Option<i32>,
    pub default_length_minutes: Option<i32>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
    pub min_age: Option<Option<i32>>,
    pub max_age: Option<Option<i32>>,
    pub districts: Option<Option<String>>,
}

impl CourseInput {
    /// Checks the fields; returns the changes and the topic list, if given.
    pub fn parse(self, creating: bool) -> AppResult<(CourseChanges, Option<Vec<String>>)> {
        let mut v = Checker::new();
        let required = |field: &str, present: bool| {
            if creating && !present {
                Some(field.to_owned())
            } else {
                None
            }
        };
        let missing: Vec<String> = [
            required("title", self.title.is_some()),
            required("kind", self.kind.is_some()),
            required("default_fee_yen", self.default_fee_yen.is_some()),
            required(
                "default_length_minutes",
                self.default_length_minutes.is_some(),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        for field in missing {
            v.fail(&field, "is required");
        }
        let title = self.title.map(|t| v.check("title", required_text(&t, 200)));
        let description = self
            .description
            .map(|t| v.check("description", optional_text(Some(&t), 4000)));
        let audience = self
            .audience
            .map(|t| v.check("audience", optional_text(Some(&t), 500)));
        let default_fee_yen = self
            .default_fee_yen
            .map(|f| v.check("default_fee_yen", yen(f, MAX_FEE_YEN)));
        let default_length_minutes = self
            .default_length_minutes
            .map(|m| v.check("default_length_minutes", positive(m, MAX_LENGTH_MINUTES)));
        let topics = self.topics.map(|list| {
            let mut codes: Vec<String> = list.iter().map(|c| c.trim().to_owned()).collect();
            codes.sort();
            codes.dedup();
            if codes.len() > 30 {
                v.fail("topics", "at most 30 topics");
            }
            codes
        });
        let eligibility = self.eligibility.map(|e| e.parse(&mut v));
        v.finish()?;
        Ok((
            CourseChanges {
                title,
                description,
                audience,
                level: self.level.map(|l| Some(l.as_str().to_owned())),
                kind: self.kind.map(|k| k.as_str().to_owned()),
                default_fee_yen,
                default_length_minutes,
                active: self.active,
                updated_at: None,
                min_age: eligibility.as_ref().map(|e| e.min_age),
                max_age: eligibility.as_ref().map(|e| e.max_age),
                districts: eligibility.as_ref().map(Eligibility::districts_text),
            },
            topics,
        ))
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CourseFilter {
    pub active: Option<bool>,
    pub kind: Option<CourseKind>,
    /// Only courses tagged with this topic code.
    pub topic: Option<String>,
    /// Part of the title.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = topics)]
pub struct TopicRow {
    pub code: String,
    pub label: String,
    pub organisation_id: Option<OrganisationId>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Topic {
    pub code: String,
    pub label: String,
    /// `false` for the shared list every organisation starts with.
    pub custom: bool,
}

impl From<TopicRow> for Topic {
    fn from(r: TopicRow) -> Self {
        Topic {
            code: r.code,
            label: r.label,
            custom: r.organisation_id.is_some(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTopic {
    /// snake_case code, e.g. `smartphone_photo_printing`.
    pub code: String,
    pub label: String,
}

/// A topic code: 1–50 characters of a–z, 0–9 and `_`.
pub fn topic_code(raw: &str) -> Result<String, String> {
    let code = raw.trim();
    let ok = !code.is_empty()
        && code.len() <= 50
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(code.to_owned())
    } else {
        Err("must be 1–50 characters of a–z, 0–9 and _".into())
    }
}
