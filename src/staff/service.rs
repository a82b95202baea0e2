//! Staff account rules shared by the API, the CLI and the first-start
//! bootstrap: parsing a new account, creating it, and the role and status
//! changes that must leave an organisation with an active admin.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use secrecy::SecretString;

use super::queries::{self, AccountChanges};
use super::types::{AccountRow, Email, NewAccountRow, PersonName, Role, optional_text};
use crate::auth::password::NewPassword;
use crate::db::{AccountId, DbConnection, OrganisationId};
use crate::error::{AppError, AppResult, FieldError};

/// A new account whose every field has been checked.
pub struct NewStaff {
    pub email: Email,
    pub name: PersonName,
    pub role: Role,
    pub affiliation: Option<String>,
    pub password: NewPassword,
}

impl NewStaff {
    /// Collects every invalid field into one 422.
    pub fn parse(
        email: &str,
        name: &str,
        role: Role,
        affiliation: Option<&str>,
        password: &SecretString,
    ) -> AppResult<NewStaff> {
        let mut errors = Vec::new();
        let email = Email::parse(email)
            .map_err(|m| errors.push(FieldError::new("email", m)))
            .ok();
        let name = PersonName::parse(name)
            .map_err(|m| errors.push(FieldError::new("name", m)))
            .ok();
        let affiliation = optional_text(affiliation, 100)
            .map_err(|m| errors.push(FieldError::new("affiliation", m)))
            .ok();
        let password =
            NewPassword::parse(password, email.as_ref().map(Email::as_str).unwrap_or(""))
                .map_err(|m| errors.push(FieldError::new("password", m)))
                .ok();
        match (email, name, affiliation, password) {
            (Some(email), Some(name), Some(affiliation), Some(password)) if errors.is_empty() => {
                Ok(NewStaff {
                    email,
                    name,
                    role,
                    affiliation,
                    password,
                })
            }
            _ => Err(AppError::validation(errors)),
        }
    }
}

fn email_taken() -> AppError {
    AppError::conflict(
        "email_taken",
        "a staff account with this email already exists",
    )
}

/// Inserts the account and its audit entry. Call inside a write transaction;
/// `password_hash` is computed beforehand, off the async threads.
pub fn create(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    actor: Option<AccountId>,
    new: &NewStaff,
    password_hash: &str,
    must_change_password: bool,
) -> AppResult<AccountRow> {
    if queries::email_taken(conn, new.email.as_str())? {
        return Err(email_taken());
    }
    let now = chrono::Utc::now().naive_utc();
    let name = new.name.clone().into_inner();
    let row = queries::insert(
        conn,
        &NewAccountRow {
            id: AccountId::generate(),
            organisation_id: organisation,
            email: new.email.as_str(),
            name: &name,
            role: new.role.as_str(),
            affiliation: new.affiliation.as_deref(),
            password_hash,
            active: true,
            must_change_password,
            created_at: now,
            updated_at: now,
        },
    )
    .map_err(|e| match e {
        // Two creates raced past the check above.
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => email_taken(),
        other => other.into(),
    })?;
    crate::audit::record(
        conn,
        crate::audit::Actor {
            organisation,
            account: actor,
        },
        "staff.create",
        "staff_account",
        row.id.to_string(),
        format!("created {} as {}", row.email, row.role),
    )?;
    Ok(row)
}

/// Applies a change to an account, refusing one that would leave the
/// organisation without an active admin. Call inside a write transaction.
pub fn change(
    conn: &mut DbConnection,
    caller: (OrganisationId, AccountId),
    target: AccountId,
    changes: AccountChanges<'_>,
    action: &str,
    summary: String,
) -> AppResult<AccountRow> {
    let (organisation, actor) = caller;
    crate::db::locks::organisation(conn, organisation)?;
    let current = queries::find(conn, organisation, target)?
        .ok_or_else(|| AppError::not_found("staff account"))?;
    let loses_admin = current.active
        && current.role == Role::Admin.as_str()
        && (changes.role.is_some_and(|r| r != Role::Admin.as_str())
            || changes.active == Some(false));
    if loses_admin && queries::count_active_admins(conn, organisation)? <= 1 {
        return Err(AppError::conflict(
            "last_admin",
            "this is the organisation's last active admin; make another admin first",
        ));
    }
    let row = queries::update(conn, organisation, target, changes)?;
    crate::audit::record(
        conn,
        crate::audit::Actor::staff(organisation, actor),
        action,
        "staff_account",
        target.to_string(),
        summary,
    )?;
    Ok(row)
}

/// Deactivates (every session of the account ends at once) or reactivates
/// an account; nobody deactivates themselves, nor the last active admin.
pub fn set_active(
    conn: &mut DbConnection,
    caller: (OrganisationId, AccountId),
    target: AccountId,
    active: bool,
) -> AppResult<AccountRow> {
    if !active && target == caller.1 {
        return Err(AppError::conflict(
            "cannot_deactivate_self",
            "you cannot deactivate your own account",
        ));
    }
    let changes = AccountChanges {
        active: Some(active),
        ..Default::default()
    };
    let (action, summary) = if active {
        ("staff.reactivate", "reactivated")
    } else {
        ("staff.deactivate", "deactivated; sessions revoked")
    };
    let row = change(conn, caller, target, changes, action, summary.into())?;
    if !active {
        crate::auth::queries::revoke_sessions_of(conn, target, None)?;
    }
    Ok(row)
}

/// Changes one's own password (the current one must be right); other
/// sessions of the account are revoked, this one stays. Shared by the API
/// (`POST /me/password`) and the console.
pub async fn change_own_password(
    state: &crate::state::AppState,
    caller: crate::auth::Caller,
    current_password: secrecy::SecretString,
    new_password: secrecy::SecretString,
) -> AppResult<()> {
    use super::queries::{self, AccountChanges};
    use crate::auth::{password, queries as auth_queries};
    use crate::state::blocking;
    let account = state
        .db(move |conn| {
            Ok(queries::find(
                conn,
                caller.organisation_id,
                caller.account_id,
            )?)
        })
        .await?
        .ok_or_else(|| AppError::not_found("staff account"))?;
    let new = password::NewPassword::parse(&new_password, &account.email)
        .map_err(|m| AppError::invalid_field("new_password", m))?;
    let stored = account.password_hash.clone();
    let current = current_password;
    let hash = blocking(move || {
        if !password::verify(&current, Some(&stored)) {
            return Err(AppError::invalid_field("current_password", "is incorrect"));
        }
        Ok(password::hash(&new)?)
    })
    .await??;
    state
        .write(move |conn| {
            let changes = AccountChanges {
                password_hash: Some(&hash),
                must_change_password: Some(false),
                ..Default::default()
            };
            queries::update(conn, caller.organisation_id, caller.account_id, changes)?;
            auth_queries::revoke_sessions_of(conn, caller.account_id, Some(caller.session_id))?;
            crate::audit::record(
                conn,
                &caller,
                "staff.password_change",
                "staff_account",
                caller.account_id.to_string(),
                "changed own password; other sessions revoked",
            )?;
            Ok(())
        })
        .await?;
    Ok(())
}
