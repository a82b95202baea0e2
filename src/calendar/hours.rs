//! Opening hours per weekday, stored per organisation, and the business
//! calendar built from them.

use chrono::NaiveTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::BusinessCalendar;
use crate::db::schema::opening_hours;
use crate::db::{DbConnection, OrganisationId, VenueId};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OpeningHours {
    /// `monday` … `sunday`
    pub weekday: String,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

pub fn stored_hours(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> QueryResult<Vec<(i32, NaiveTime, NaiveTime)>> {
    opening_hours::table
        .filter(opening_hours::organisation_id.eq(organisation))
        .order(opening_hours::weekday.asc())
        .select((
            opening_hours::weekday,
            opening_hours::opens,
            opening_hours::closes,
        ))
        .load(conn)
}

pub fn replace_hours(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    hours: &[(i32, NaiveTime, NaiveTime)],
) -> QueryResult<()> {
    diesel::delete(opening_hours::table.filter(opening_hours::organisation_id.eq(organisation)))
        .execute(conn)?;
    for (weekday, opens, closes) in hours {
        diesel::insert_into(opening_hours::table)
            .values((
                opening_hours::organisation_id.eq(organisation),
                opening_hours::weekday.eq(weekday),
                opening_hours::opens.eq(opens),
                opening_hours::closes.eq(closes),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The business calendar of an organisation, or of one of its venues: the
/// venue's own hours when it has them (a later migration adds them), else
/// the organisation's, else Monday–Friday 09:00–17:00; the organisation's
/// timezone, Japanese holidays and its closures.
pub fn business_calendar(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    _venue: Option<VenueId>,
) -> QueryResult<BusinessCalendar> {
    let tz = super::timezone(conn, organisation)?;
    let stored = stored_hours(conn, organisation)?;
    let hours = if stored.is_empty() {
        BusinessCalendar::default_hours()
    } else {
        let mut hours = [None; 7];
        for (weekday, opens, closes) in stored {
            if let Some(slot) = hours.get_mut(weekday as usize) {
                *slot = Some((opens, closes));
            }
        }
        hours
    };
    let closures = super::closures(conn, organisation)?;
    Ok(BusinessCalendar::new(tz, hours, closures))
}
