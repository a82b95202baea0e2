//! Venue changes shared by the API and the console: each writes its audit
//! entry in the caller's transaction.

use super::queries;
use super::types::{VenueChanges, VenueRow};
use crate::auth::Caller;
use chrono::NaiveTime;

use crate::calendar;
use crate::db::{DbConnection, VenueId};
use crate::error::{AppError, AppResult};

/// Creates a venue from checked fields.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    changes: VenueChanges,
) -> AppResult<VenueRow> {
    let row = queries::insert(conn, caller.organisation_id, changes)?;
    crate::audit::record(
        conn,
        caller,
        "venue.create",
        "venue",
        row.id,
        format!("created venue {}", row.name),
    )?;
    Ok(row)
}

/// Applies checked changes (`action` names them in the audit log).
pub fn change(
    conn: &mut DbConnection,
    caller: &Caller,
    id: VenueId,
    changes: VenueChanges,
    action: &'static str,
) -> AppResult<VenueRow> {
    let row = queries::update(conn, caller.organisation_id, id, changes)?
        .ok_or_else(|| AppError::not_found("venue"))?;
    crate::audit::record(
        conn,
        caller,
        action,
        "venue",
        id,
        format!("{action} {}", row.name),
    )?;
    Ok(row)
}

/// Replaces a venue's own weekly hours; none: it follows the organisation's.
pub fn set_hours(
    conn: &mut DbConnection,
    caller: &Caller,
    venue: VenueId,
    hours: &[(i32, NaiveTime, NaiveTime)],
) -> AppResult<()> {
    queries::find(conn, caller.organisation_id, venue)?
        .ok_or_else(|| AppError::not_found("venue"))?;
    calendar::hours::replace_venue_hours(conn, venue, hours)?;
    crate::audit::record(
        conn,
        caller,
        "venue.opening_hours",
        "venue",
        venue,
        if hours.is_empty() {
            "follows the organisation's hours".to_owned()
        } else {
            format!("{} open day(s)", hours.len())
        },
    )?;
    Ok(())
}
