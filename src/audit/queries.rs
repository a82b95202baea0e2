//! Audit log queries.

use diesel::prelude::*;

use super::types::{Actor, AuditFilter, AuditRow};
use crate::db::schema::audit_log;
use crate::db::{AccountId, DbConnection, OrganisationId};

/// Appends an entry: the one way to write the audit log. Call inside the
/// transaction of the write it describes. `action` is `<entity>.<verb>`
/// (e.g. `staff.create`); the summary is short and human, never a
/// password, token or phone number.
pub fn record(
    conn: &mut DbConnection,
    actor: impl Into<Actor>,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    summary: impl Into<String>,
) -> QueryResult<()> {
    record_all(conn, &[entry(actor, action, entity, entity_id, summary)])
}

/// An audit entry, to be written with `record_all`.
pub fn entry(
    actor: impl Into<Actor>,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    summary: impl Into<String>,
) -> AuditRow {
    let actor = actor.into();
    AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: actor.organisation,
        actor_id: actor.account,
        action: action.to_owned(),
        entity: entity.to_owned(),
        entity_id: entity_id.to_string(),
        summary: summary.into(),
        created_at: chrono::Utc::now().naive_utc(),
    }
}

/// Writes entries in one statement.
pub fn record_all(conn: &mut DbConnection, entries: &[AuditRow]) -> QueryResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    // Several rows in one INSERT is per backend in diesel (the
    // multi-connection does not derive it).
    match conn {
        DbConnection::Pg(c) => diesel::insert_into(audit_log::table)
            .values(entries)
            .execute(c),
        DbConnection::Sqlite(c) => diesel::insert_into(audit_log::table)
            .values(entries)
            .execute(c),
    }
    .map(|_| ())
}

/// Newest first; `limit + 1` rows so the caller can tell whether more exist.
pub fn list(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &AuditFilter,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .filter(audit_log::organisation_id.eq(organisation))
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(entity) = &filter.entity {
        query = query.filter(audit_log::entity.eq(entity.clone()));
    }
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(entity_id.clone()));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(AccountId(actor)));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::created_at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::created_at.lt(to.naive_utc()));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(audit_log::id.lt(cursor.to_string()));
    }
    query.load(conn)
}
