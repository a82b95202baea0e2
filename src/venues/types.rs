//! Venue rows, requests and answers.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::venues;
use crate::db::{OrganisationId, VenueId};
use crate::error::AppResult;
use crate::validate::{Checker, optional_text, positive, required_text};

pub const MAX_CAPACITY: i64 = 10_000;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = venues)]
pub struct VenueRow {
    pub id: VenueId,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub address: Option<String>,
    pub room: Option<String>,
    pub default_capacity: i32,
    pub phone: Option<String>,
    pub accessibility_notes: Option<String>,
    pub online_url: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Venue {
    pub id: VenueId,
    pub name: String,
    pub address: Option<String>,
    /// The usual room, e.g. 第1会議室.
    pub room: Option<String>,
    pub default_capacity: i32,
    pub phone: Option<String>,
    /// Step-free access, hearing loop, parking …
    pub accessibility_notes: Option<String>,
    /// For an online room: the meeting link sent to participants.
    pub online_url: Option<String>,
    /// Archived venues are inactive: kept for history, offered for nothing new.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<VenueRow> for Venue {
    fn from(r: VenueRow) -> Self {
        Venue {
            id: r.id,
            name: r.name,
            address: r.address,
            room: r.room,
            default_capacity: r.default_capacity,
            phone: r.phone,
            accessibility_notes: r.accessibility_notes,
            online_url: r.online_url,
            active: r.active,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// Create a venue; on update every field is optional and an empty string
/// clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueInput {
    pub name: Option<String>,
    pub address: Option<String>,
    pub room: Option<String>,
    pub default_capacity: Option<i64>,
    pub phone: Option<String>,
    pub accessibility_notes: Option<String>,
    pub online_url: Option<String>,
    /// `true` restores an archived venue.
    pub active: Option<bool>,
}

/// The checked fields of a `VenueInput`; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = venues)]
pub struct VenueChanges {
    pub name: Option<String>,
    pub address: Option<Option<String>>,
    pub room: Option<Option<String>>,
    pub default_capacity: Option<i32>,
    pub phone: Option<Option<String>>,
    pub accessibility_notes: Option<Option<String>>,
    pub online_url: Option<Option<String>>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

impl VenueInput {
    /// Checks every given field; `creating` makes name and capacity required.
    pub fn parse(self, creating: bool) -> AppResult<VenueChanges> {
        let mut v = Checker::new();
        let name = match self.name.as_deref() {
            Some(n) => Some(v.check("name", required_text(n, 100))),
            None if creating => {
                v.fail("name", "is required");
                None
            }
            None => None,
        };
        let default_capacity = match self.default_capacity {
            Some(c) => Some(v.check("default_capacity", positive(c, MAX_CAPACITY))),
            None if creating => {
                v.fail("default_capacity", "is required");
                None
            }
            None => None,
        };
        let mut opt = |field: &str, raw: Option<String>, max: usize| {
            raw.map(|raw| v.check(field, optional_text(Some(&raw), max)))
        };
        let address = opt("address", self.address, 200);
        let room = opt("room", self.room, 100);
        let phone = opt("phone", self.phone, 30);
        let accessibility_notes = opt("accessibility_notes", self.accessibility_notes, 1000);
        let online_url = opt("online_url", self.online_url, 500);
        if let Some(Some(url)) = &online_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            v.fail("online_url", "must be an http(s) link");
        }
        v.finish()?;
        Ok(VenueChanges {
            name,
            address,
            room,
            default_capacity,
            phone,
            accessibility_notes,
            online_url,
            active: self.active,
            updated_at: None,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VenueFilter {
    /// Only active (true) or archived (false) venues.
    pub active: Option<bool>,
    /// Part of the name or address.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<uuid::Uuid>,
}
