//! Time as an organisation lives it, in one place for every feature (the
//! schedule, the consultation desk's service levels, fees' local days, loans'
//! due dates, and reminders): the organisation's timezone, Japanese public
//! holidays, closures (of the organisation or of one venue), opening hours
//! (a venue's own, with the organisation's as the fallback), the
//! business calendar built from them, and local wall-clock ↔ UTC.
//!
//! It reads the organisations, closures and opening-hours tables directly and
//! depends on no feature, so every feature may depend on it.

pub mod business;
pub mod holidays;
pub mod hours;
pub mod instant;
pub mod reminder;

pub use business::BusinessCalendar;
pub use hours::{OpeningHours, WEEKDAYS, business_calendar};
pub use instant::Instant;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;

use crate::db::schema::{closures as closures_table, organisations};
use crate::db::{DbConnection, OrganisationId, VenueId};

/// The organisation's timezone (Asia/Tokyo unless it chose another).
pub fn timezone(conn: &mut DbConnection, id: OrganisationId) -> QueryResult<chrono_tz::Tz> {
    let name: String = organisations::table
        .find(id)
        .select(organisations::timezone)
        .first(conn)?;
    Ok(name.parse().unwrap_or(chrono_tz::Asia::Tokyo))
}

/// Today in the organisation's timezone.
pub fn today(tz: chrono_tz::Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

/// The organisation's closures as local `[start, end)` wall-clock spans:
/// those of the whole organisation, and of `venue` when one is given.
pub fn closures(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    venue: Option<VenueId>,
) -> QueryResult<Vec<(NaiveDateTime, NaiveDateTime)>> {
    let mut query = closures_table::table
        .filter(closures_table::organisation_id.eq(organisation))
        .order(closures_table::starts_local.asc())
        .select((closures_table::starts_local, closures_table::ends_local))
        .into_boxed();
    query = match venue {
        Some(v) => query.filter(
            closures_table::venue_id
                .is_null()
                .or(closures_table::venue_id.eq(v)),
        ),
        None => query.filter(closures_table::venue_id.is_null()),
    };
    query.load(conn)
}

/// Places a local wall-clock time in `tz`: an ambiguous time (clocks going
/// back) takes the earlier instant; a time that does not exist (clocks going
/// forward) moves forward by the gap.
pub fn to_utc<Z: TimeZone>(tz: &Z, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => to_utc(tz, local + Duration::hours(1)),
    }
}
