//! Audit log rows and their API shape.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::audit_log;
use crate::db::{AccountId, OrganisationId};

/// Who made a change: a member of staff of an organisation, or the system
/// itself (bootstrap, CLI, background jobs) when `account` is `None`.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub organisation: OrganisationId,
    pub account: Option<AccountId>,
}

impl Actor {
    pub fn staff(organisation: OrganisationId, account: AccountId) -> Actor {
        Actor {
            organisation,
            account: Some(account),
        }
    }

    pub fn system(organisation: OrganisationId) -> Actor {
        Actor {
            organisation,
            account: None,
        }
    }
}

impl From<&crate::auth::Caller> for Actor {
    fn from(caller: &crate::auth::Caller) -> Actor {
        Actor::staff(caller.organisation_id, caller.account_id)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub actor_id: Option<AccountId>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub summary: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditRecord {
    pub id: uuid::Uuid,
    pub actor_id: Option<AccountId>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub summary: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = anyhow::Error;
    fn try_from(row: AuditRow) -> anyhow::Result<Self> {
        Ok(AuditRecord {
            id: row.id.parse()?,
            actor_id: row.actor_id,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            summary: row.summary,
            created_at: row.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// e.g. `staff_account`
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<uuid::Uuid>,
    /// e.g. `staff.create`
    pub action: Option<String>,
    /// Only entries at or after this instant. An RFC 3339 instant, or a local date
    /// (from the start of that day in the organisation's timezone).
    #[param(value_type = Option<String>)]
    pub from: Option<crate::calendar::Instant>,
    /// Only entries before this instant. A date includes that whole day.
    #[param(value_type = Option<String>)]
    pub to: Option<crate::calendar::Instant>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<uuid::Uuid>,
}
