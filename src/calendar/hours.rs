//! Opening hours per weekday, stored per organisation and (optionally) per
//! venue, and the business calendar built from them.

use std::collections::HashMap;

use chrono::NaiveTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::BusinessCalendar;
use crate::db::schema::{opening_hours, venue_opening_hours};
use crate::db::{DbConnection, OrganisationId, VenueId};
use crate::error::AppResult;
use crate::validate::Checker;

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

/// A week of opening hours, Monday first; `None` is closed.
pub type Week = [Option<(NaiveTime, NaiveTime)>; 7];

fn week_of(rows: impl IntoIterator<Item = (i32, NaiveTime, NaiveTime)>) -> Week {
    let mut week = [None; 7];
    for (weekday, opens, closes) in rows {
        if let Some(slot) = week.get_mut(weekday as usize) {
            *slot = Some((opens, closes));
        }
    }
    week
}

/// The organisation's week: its stored hours, else Monday–Friday 09:00–17:00.
pub fn organisation_week(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> QueryResult<Week> {
    let stored = stored_hours(conn, organisation)?;
    Ok(if stored.is_empty() {
        BusinessCalendar::default_hours()
    } else {
        week_of(stored)
    })
}

/// A venue's own stored hours (empty: it follows the organisation's).
pub fn venue_hours(
    conn: &mut DbConnection,
    venue: VenueId,
) -> QueryResult<Vec<(i32, NaiveTime, NaiveTime)>> {
    venue_opening_hours::table
        .filter(venue_opening_hours::venue_id.eq(venue))
        .order(venue_opening_hours::weekday.asc())
        .select((
            venue_opening_hours::weekday,
            venue_opening_hours::opens,
            venue_opening_hours::closes,
        ))
        .load(conn)
}

/// The own weeks of those of `venues` that have their own hours, in one query.
pub fn venue_weeks(
    conn: &mut DbConnection,
    venues: &[VenueId],
) -> QueryResult<HashMap<VenueId, Week>> {
    let rows: Vec<(VenueId, i32, NaiveTime, NaiveTime)> = venue_opening_hours::table
        .filter(venue_opening_hours::venue_id.eq_any(venues))
        .select((
            venue_opening_hours::venue_id,
            venue_opening_hours::weekday,
            venue_opening_hours::opens,
            venue_opening_hours::closes,
        ))
        .load(conn)?;
    let mut grouped: HashMap<VenueId, Vec<(i32, NaiveTime, NaiveTime)>> = HashMap::new();
    for (venue, day, opens, closes) in rows {
        grouped.entry(venue).or_default().push((day, opens, closes));
    }
    Ok(grouped
        .into_iter()
        .map(|(venue, rows)| (venue, week_of(rows)))
        .collect())
}

/// Replaces a venue's own hours; an empty list returns it to the
/// organisation's hours.
pub fn replace_venue_hours(
    conn: &mut DbConnection,
    venue: VenueId,
    hours: &[(i32, NaiveTime, NaiveTime)],
) -> QueryResult<()> {
    diesel::delete(venue_opening_hours::table.filter(venue_opening_hours::venue_id.eq(venue)))
        .execute(conn)?;
    for (weekday, opens, closes) in hours {
        diesel::insert_into(venue_opening_hours::table)
            .values((
                venue_opening_hours::venue_id.eq(venue),
                venue_opening_hours::weekday.eq(weekday),
                venue_opening_hours::opens.eq(opens),
                venue_opening_hours::closes.eq(closes),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Checks a requested week (422 naming `[i].weekday` or `[i].closes`):
/// known weekdays, each at most once, closing after opening.
pub fn parse_week(list: &[OpeningHours]) -> AppResult<Vec<(i32, NaiveTime, NaiveTime)>> {
    let mut v = Checker::new();
    let mut hours = Vec::new();
    for (i, h) in list.iter().enumerate() {
        match WEEKDAYS.iter().position(|d| *d == h.weekday) {
            Some(day) if hours.iter().any(|(d, _, _)| *d == day as i32) => {
                v.fail(&format!("[{i}].weekday"), "appears twice")
            }
            Some(_) if h.closes <= h.opens => {
                v.fail(&format!("[{i}].closes"), "must be after opens")
            }
            Some(day) => hours.push((day as i32, h.opens, h.closes)),
            None => v.fail(&format!("[{i}].weekday"), "must be monday … sunday"),
        }
    }
    v.finish()?;
    hours.sort();
    Ok(hours)
}

/// A week as answered: open days only, Monday first.
pub fn answer(week: &Week) -> Vec<OpeningHours> {
    week.iter()
        .enumerate()
        .filter_map(|(day, h)| h.map(|(opens, closes)| one_day(day, opens, closes)))
        .collect()
}

/// The hours of one weekday (0 = Monday) of a week, if open.
pub fn on_weekday(week: &Week, weekday: usize) -> Option<OpeningHours> {
    week.get(weekday)
        .copied()
        .flatten()
        .map(|(opens, closes)| one_day(weekday, opens, closes))
}

fn one_day(day: usize, opens: NaiveTime, closes: NaiveTime) -> OpeningHours {
    OpeningHours {
        weekday: WEEKDAYS[day % 7].to_owned(),
        opens,
        closes,
    }
}

/// The business calendar of an organisation, or of one of its venues: the
/// venue's own hours when it has them, else the organisation's, else
/// Monday–Friday 09:00–17:00; the organisation's timezone, Japanese
/// holidays, the organisation's closures and (for a venue) the venue's own.
pub fn business_calendar(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    venue: Option<VenueId>,
) -> QueryResult<BusinessCalendar> {
    let tz = super::timezone(conn, organisation)?;
    let own = match venue {
        Some(v) => venue_hours(conn, v)?,
        None => Vec::new(),
    };
    let hours = if own.is_empty() {
        organisation_week(conn, organisation)?
    } else {
        week_of(own)
    };
    let closures = super::closures(conn, organisation, venue)?;
    Ok(BusinessCalendar::new(tz, hours, closures))
}
