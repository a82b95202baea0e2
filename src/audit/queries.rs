//! Audit log queries.

use diesel::prelude::*;

use super::types::{AuditEntry, AuditFilter, AuditRow};
use crate::db::schema::audit_log;
use crate::db::{AccountId, DbConnection, OrganisationId};

/// Appends an entry. Call inside the transaction of the write it describes.
pub fn record(conn: &mut DbConnection, entry: AuditEntry<'_>) -> QueryResult<()> {
    let row = AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: entry.organisation_id,
        actor_id: entry.actor_id,
        action: entry.action.to_owned(),
        entity: entry.entity.to_owned(),
        entity_id: entry.entity_id,
        summary: entry.summary,
        created_at: chrono::Utc::now().naive_utc(),
    };
    diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(conn)
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

/// Shorthand for [`record`]: one entry by an actor (`None` for the system).
pub fn write(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    actor: Option<AccountId>,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    summary: impl Into<String>,
) -> QueryResult<()> {
    record(
        conn,
        AuditEntry {
            organisation_id: organisation,
            actor_id: actor,
            action,
            entity,
            entity_id: entity_id.to_string(),
            summary: summary.into(),
        },
    )
}

/// One entry by the authenticated caller.
pub fn by_caller(
    conn: &mut DbConnection,
    caller: &crate::auth::Caller,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    summary: impl Into<String>,
) -> QueryResult<()> {
    write(
        conn,
        caller.organisation_id,
        Some(caller.account_id),
        action,
        entity,
        entity_id,
        summary,
    )
}
