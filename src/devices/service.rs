//! The rules of the loaner inventory: adding devices, taking them out of
//! and back into service, lending them (during a session, against the
//! booking's reservation, or home until a date) and taking them back. Every
//! function runs inside the caller's write transaction.

use chrono::{NaiveDate, NaiveTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::queries;
use super::types::{DeviceRow, DeviceStatus, LoanRow, NewLoan};
use crate::auth::{Caller, Role, WRITERS};
use crate::bookings::loaners as pool;
use crate::bookings::queries as bookings;
use crate::bookings::service as booking_service;
use crate::db::{BookingId, DbConnection, DeviceId, LoanId, ResidentId, VenueId};
use crate::error::{AppError, AppResult};

/// Who may lend and take back devices (instructors only for their sessions).
pub const LENDERS: &[Role] = &[Role::Admin, Role::Coordinator, Role::Instructor];

fn unavailable(status: &str) -> AppError {
    AppError::conflict(
        "device_unavailable",
        format!("the device is {status}: choose another one"),
    )
}

/// A device to add, its fields already checked.
pub struct NewDeviceFields {
    pub asset_tag: String,
    pub kind: String,
    pub os: String,
    pub os_version: Option<String>,
    pub model: String,
    pub home_venue: VenueId,
    pub notes: Option<String>,
}

impl NewDeviceFields {
    /// Checks a requested device (every invalid field in one 422).
    pub fn parse(req: super::types::NewDevice) -> AppResult<NewDeviceFields> {
        use crate::validate::{Checker, optional_text, required_text};
        let mut v = Checker::new();
        let asset_tag = v.check("asset_tag", required_text(&req.asset_tag, 50));
        if !["smartphone", "tablet", "other"].contains(&req.kind.as_str()) {
            v.fail("kind", "must be smartphone, tablet or other");
        }
        let os = v.check("os", required_text(&req.os, 50));
        let os_version = v.check("os_version", optional_text(req.os_version.as_deref(), 50));
        let model = v.check("model", required_text(&req.model, 100));
        let notes = v.check(
            "condition_notes",
            optional_text(req.condition_notes.as_deref(), 1000),
        );
        v.finish()?;
        Ok(NewDeviceFields {
            asset_tag,
            kind: req.kind,
            os,
            os_version,
            model,
            home_venue: VenueId(req.home_venue_id),
            notes,
        })
    }
}

/// Adds a device to a venue's pool (asset tags are unique).
pub fn create_device(
    conn: &mut DbConnection,
    caller: &Caller,
    fields: NewDeviceFields,
) -> AppResult<DeviceRow> {
    let NewDeviceFields {
        asset_tag,
        kind,
        os,
        os_version,
        model,
        home_venue,
        notes,
    } = fields;
    crate::venues::queries::find(conn, caller.organisation_id, home_venue)?
        .ok_or_else(|| AppError::invalid_field("home_venue_id", "no such venue"))?;
    if queries::asset_tag_taken(conn, caller.organisation_id, &asset_tag)? {
        return Err(AppError::conflict(
            "asset_tag_taken",
            format!("the asset tag {asset_tag} is already used"),
        ));
    }
    let now = Utc::now().naive_utc();
    let row = DeviceRow {
        id: DeviceId::generate(),
        organisation_id: caller.organisation_id,
        asset_tag,
        kind,
        os,
        os_version,
        model,
        home_venue_id: home_venue,
        status: DeviceStatus::Available,
        condition_notes: notes,
        created_at: now,
        updated_at: now,
    };
    queries::insert(conn, &row).map_err(|e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => AppError::conflict("asset_tag_taken", "the asset tag is already used"),
        other => other.into(),
    })?;
    queries::record_event(
        conn,
        row.id,
        "created",
        &format!("added to the pool as {}", row.asset_tag),
        Some(caller.account_id),
    )?;
    crate::audit::record(
        conn,
        caller,
        "device.create",
        "device",
        row.id.to_string(),
        format!("added {} ({})", row.asset_tag, row.model),
    )?;
    Ok(row)
}

/// Takes a device out of or back into service (never while on loan;
/// retired is final). A device back in the pool serves the loaner waitlist.
pub fn change_status(
    conn: &mut DbConnection,
    caller: &Caller,
    id: DeviceId,
    to: DeviceStatus,
    note: Option<&str>,
) -> AppResult<DeviceRow> {
    let row = queries::find(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("device"))?;
    // A device on loan changes state only by its return; retired is final.
    if !queries::set_status(
        conn,
        id,
        &[DeviceStatus::Available, DeviceStatus::Maintenance],
        to,
        note,
    )? {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("a {} device cannot become {to}", row.status),
        ));
    }
    if to == DeviceStatus::Available {
        // A device back in the pool may serve a waiting request.
        crate::bookings::loaners::promote_waiting(conn, row.home_venue_id)?;
    }
    queries::record_event(
        conn,
        id,
        "status",
        &format!(
            "{} → {to}{}",
            row.status,
            note.map(|n| format!(": {n}")).unwrap_or_default()
        ),
        Some(caller.account_id),
    )?;
    crate::audit::record(
        conn,
        caller,
        "device.status",
        "device",
        id.to_string(),
        format!("{} → {to}", row.status),
    )?;
    queries::find(conn, caller.organisation_id, id)?.ok_or_else(|| AppError::not_found("device"))
}

/// Lends a device: during a session (the booking's reservation becomes the
/// loan) or home until a date (only if the venue's sessions do not need it).
pub fn lend(
    conn: &mut DbConnection,
    caller: &Caller,
    req: &NewLoan,
    turnaround: i64,
) -> AppResult<LoanRow> {
    let device = queries::find(conn, caller.organisation_id, DeviceId(req.device_id))?
        .ok_or_else(|| AppError::invalid_field("device_id", "no such device"))?;
    if device.status != DeviceStatus::Available {
        return Err(unavailable(device.status.as_str()));
    }
    let now = Utc::now().naive_utc();
    let (booking_id, resident_id, due_at) = match (req.booking_id, req.resident_id, req.due_on) {
        (Some(booking), None, None) => {
            let booking = bookings::find(conn, caller.organisation_id, BookingId(booking))?
                .ok_or_else(|| AppError::invalid_field("booking_id", "no such booking"))?;
            booking_service::may_run(conn, caller, booking.session_id)?;
            if booking.status != crate::bookings::types::BookingStatus::Confirmed {
                return Err(AppError::conflict(
                    "invalid_state",
                    format!("the booking is {}", booking.status),
                ));
            }
            let session =
                booking_service::session_of(conn, caller.organisation_id, booking.session_id)?;
            match pool::status_of(conn, booking.id)?.as_deref() {
                Some("reserved") => pool::set_status(conn, booking.id, "out")?,
                Some("out") => {
                    return Err(AppError::conflict(
                        "already_lent",
                        "this booking already has a device",
                    ));
                }
                // A claim waiting for a device, released or returned
                // earlier: the same row becomes the loan.
                Some(_) if pool::available_for(conn, &session, turnaround)? => {
                    pool::set_status(conn, booking.id, "out")?
                }
                None if pool::available_for(conn, &session, turnaround)? => {
                    pool::record(conn, &session, booking.id, "out", turnaround)?
                }
                _ => {
                    return Err(AppError::conflict(
                        "no_loaner_available",
                        "every device of this venue is reserved for this time",
                    ));
                }
            }
            (Some(booking.id), booking.resident_id, session.ends_at)
        }
        (None, Some(resident), Some(due_on)) => {
            caller.require(WRITERS)?;
            crate::validate::within_horizon(due_on)
                .map_err(|m| AppError::invalid_field("due_on", m))?;
            let resident = crate::residents::queries::find(
                conn,
                caller.organisation_id,
                ResidentId(resident),
            )?
            .ok_or_else(|| AppError::invalid_field("resident_id", "no such resident"))?;
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            let due_at = due_at(tz, due_on);
            if due_at <= now {
                return Err(AppError::invalid_field("due_on", "must not be in the past"));
            }
            if !pool::available_between(conn, device.home_venue_id, now, due_at)? {
                return Err(AppError::conflict(
                    "no_loaner_available",
                    "the venue's devices are reserved for sessions in that period",
                ));
            }
            (None, resident.id, due_at)
        }
        _ => {
            return Err(AppError::invalid_field(
                "booking_id",
                "give either booking_id, or resident_id with due_on",
            ));
        }
    };
    if !queries::set_status(
        conn,
        device.id,
        &[DeviceStatus::Available],
        DeviceStatus::Loaned,
        None,
    )? {
        return Err(unavailable(device.status.as_str()));
    }
    let row = LoanRow {
        id: LoanId::generate(),
        organisation_id: caller.organisation_id,
        device_id: device.id,
        booking_id,
        resident_id,
        due_at,
        lent_by: caller.account_id,
        lent_at: now,
        returned_at: None,
        returned_to: None,
        return_condition: None,
    };
    queries::insert_loan(conn, &row).map_err(|e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => unavailable("on loan"),
        other => other.into(),
    })?;
    queries::record_event(
        conn,
        device.id,
        "loaned",
        &format!("lent until {}", due_at),
        Some(caller.account_id),
    )?;
    crate::audit::record(
        conn,
        caller,
        "loan.create",
        "loan",
        row.id.to_string(),
        format!("lent {}", device.asset_tag),
    )?;
    Ok(row)
}

/// Takes a device back, noting its condition; `to` is `available` or
/// `maintenance`.
pub fn return_loan(
    conn: &mut DbConnection,
    caller: &Caller,
    id: LoanId,
    condition: &str,
    to: DeviceStatus,
) -> AppResult<LoanRow> {
    let loan = queries::find_loan(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("loan"))?;
    match loan.booking_id {
        Some(booking) => {
            let row = bookings::find(conn, caller.organisation_id, booking)?
                .ok_or_else(|| AppError::not_found("booking"))?;
            booking_service::may_run(conn, caller, row.session_id)?;
            pool::set_status(conn, booking, "returned")?;
        }
        None => caller.require(WRITERS)?,
    }
    if !queries::close_loan(conn, id, caller.account_id, condition)? {
        return Err(AppError::conflict(
            "already_returned",
            "this loan was already returned",
        ));
    }
    queries::set_status(
        conn,
        loan.device_id,
        &[DeviceStatus::Loaned],
        to,
        Some(condition),
    )?;
    if to == DeviceStatus::Available
        && let Some(device) = queries::find(conn, caller.organisation_id, loan.device_id)?
    {
        pool::promote_waiting(conn, device.home_venue_id)?;
    }
    queries::record_event(
        conn,
        loan.device_id,
        "returned",
        &format!("returned: {condition}"),
        Some(caller.account_id),
    )?;
    crate::audit::record(
        conn,
        caller,
        "loan.return",
        "loan",
        id.to_string(),
        format!("returned to {to}"),
    )?;
    queries::find_loan(conn, caller.organisation_id, id)?.ok_or_else(|| AppError::not_found("loan"))
}

/// Open loans the caller may follow (see `auth::access`).
pub fn open_loans_for(
    conn: &mut DbConnection,
    caller: &Caller,
    overdue: bool,
) -> AppResult<Vec<LoanRow>> {
    let rows = queries::open_loans(conn, caller.organisation_id, overdue)?;
    if crate::auth::access::sees_everything(caller) {
        return Ok(rows);
    }
    if caller.role != Role::Instructor {
        crate::auth::access::require_office(caller)?;
    }
    // An instructor follows the loans they lent and those of the
    // sessions they teach.
    let ids: Vec<BookingId> = rows.iter().filter_map(|l| l.booking_id).collect();
    let mine = bookings::in_sessions_taught_by(conn, &ids, caller.account_id)?;
    let me = caller.account_id;
    Ok(rows
        .into_iter()
        .filter(|l| l.lent_by == me || l.booking_id.is_some_and(|b| mine.contains(&b)))
        .collect())
}

/// The end of the local day `due_on` in `tz`, as stored.
pub fn due_at(tz: chrono_tz::Tz, due_on: NaiveDate) -> chrono::NaiveDateTime {
    crate::calendar::to_utc(
        &tz,
        due_on.and_time(NaiveTime::from_hms_opt(23, 59, 0).unwrap_or(NaiveTime::MIN)),
    )
    .naive_utc()
}
