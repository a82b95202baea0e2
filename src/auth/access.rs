//! Who may see what (APPI: personal data only for those who need it). The
//! matrix is written out in `docs/access.md` and tested as a table in
//! `tests/api/access.rs`; every rule that depends on a caller's role and
//! their relation to a resident, session or ticket lives here.
//!
//! - Admins and coordinators run the centre: they see every record.
//! - Instructors see in full the residents booked into the sessions they
//!   teach, and those sessions' bookings, loans and money.
//! - Volunteers see in full the requesters of the tickets assigned to them.
//! - Anyone may search the register to add a walk-in or link a ticket, but
//!   outside those relations the answer carries only what identifies a
//!   person: name, kana, birth year and the last digits of the phone.

use std::collections::HashSet;

use diesel::prelude::*;

use super::Caller;
use super::roles::Role;
use crate::db::schema::{bookings, session_instructors, tickets};
use crate::db::{AccountId, DbConnection, ResidentId};
use crate::error::{AppError, AppResult};

/// Admins and coordinators: the whole organisation's records.
pub fn sees_everything(caller: &Caller) -> bool {
    matches!(caller.role, Role::Admin | Role::Coordinator)
}

/// Volunteers and instructors work their own ticket queue (and the
/// unassigned one): they take tickets for themselves only.
pub fn works_own_queue(caller: &Caller) -> bool {
    matches!(caller.role, Role::Volunteer | Role::Instructor)
}

/// How much of a resident's record an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Full,
    Limited,
}

/// The residents among `ids` the caller may see in full.
pub fn fully_visible(
    conn: &mut DbConnection,
    caller: &Caller,
    ids: &[ResidentId],
) -> QueryResult<HashSet<ResidentId>> {
    if sees_everything(caller) {
        return Ok(ids.iter().copied().collect());
    }
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let me = caller.account_id.to_string();
    let found: Vec<ResidentId> = match caller.role {
        Role::Instructor => bookings::table
            .inner_join(
                session_instructors::table
                    .on(session_instructors::session_id.eq(bookings::session_id)),
            )
            .filter(session_instructors::account_id.eq(me))
            .filter(bookings::resident_id.eq_any(ids))
            // `auth` sits below `bookings`, so the stored text, not the enum.
            .filter(bookings::status.ne("cancelled"))
            .select(bookings::resident_id)
            .distinct()
            .load(conn)?,
        Role::Volunteer => tickets::table
            .filter(tickets::organisation_id.eq(caller.organisation_id))
            .filter(tickets::assignee_id.eq(me))
            .filter(tickets::resident_id.eq_any(ids))
            .select(tickets::resident_id.assume_not_null())
            .distinct()
            .load(conn)?,
        Role::Admin | Role::Coordinator => ids.to_vec(),
    };
    Ok(found.into_iter().collect())
}

/// The view of one resident for the caller.
pub fn view_of(conn: &mut DbConnection, caller: &Caller, id: ResidentId) -> QueryResult<View> {
    Ok(if fully_visible(conn, caller, &[id])?.contains(&id) {
        View::Full
    } else {
        View::Limited
    })
}

/// A 403 unless the caller may see the resident in full.
pub fn require_full(conn: &mut DbConnection, caller: &Caller, id: ResidentId) -> AppResult<()> {
    match view_of(conn, caller, id)? {
        View::Full => Ok(()),
        View::Limited => Err(not_yours()),
    }
}

/// Sessions the account teaches, as a subquery for filters.
pub fn taught_by(
    account: AccountId,
) -> diesel::dsl::Select<
    diesel::dsl::Filter<
        session_instructors::table,
        diesel::dsl::Eq<session_instructors::account_id, String>,
    >,
    session_instructors::session_id,
> {
    session_instructors::table
        .filter(session_instructors::account_id.eq(account.to_string()))
        .select(session_instructors::session_id)
}

/// Admins and coordinators only (e.g. the whole register's money).
pub fn require_office(caller: &Caller) -> AppResult<()> {
    if sees_everything(caller) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "forbidden",
            "only coordinators and admins may do this",
        ))
    }
}

fn not_yours() -> AppError {
    AppError::forbidden(
        "not_your_resident",
        "this resident is neither booked into a session you teach nor the requester of a ticket you handle",
    )
}
