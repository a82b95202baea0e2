//! The rules of the register: registering a resident (refusing a likely
//! duplicate unless confirmed), changing their details (the search text
//! follows the names). Shared by the API, quick walk-in registration and
//! the console.

use chrono::Utc;

use super::names;
use super::queries;
use super::types::{Resident, ResidentChanges, ResidentRow, search_text};
use crate::auth::Caller;
use crate::db::{AccountId, DbConnection, OrganisationId, ResidentId};
use crate::error::{AppError, AppResult};

/// Creates a resident from checked fields, refusing a likely duplicate
/// unless confirmed. Shared with quick walk-in registration.
pub fn create(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    actor: AccountId,
    c: ResidentChanges,
    confirm_new_person: bool,
) -> AppResult<ResidentRow> {
    let family_name = c.family_name.unwrap_or_default();
    let given_name = c.given_name.unwrap_or_default();
    let family_name_kana = c.family_name_kana.unwrap_or_default();
    let given_name_kana = c.given_name_kana.unwrap_or_default();
    let phone = c.phone.flatten();
    let birth_year = c.birth_year.flatten();
    if !confirm_new_person {
        let kana = names::fold(&format!("{family_name_kana}{given_name_kana}"));
        let candidates =
            queries::possible_duplicates(conn, organisation, phone.as_deref(), &kana, birth_year)?;
        if !candidates.is_empty() {
            let listed: Vec<Resident> = candidates.into_iter().map(Resident::from).collect();
            return Err(AppError::conflict(
                "possible_duplicate",
                "a resident with the same phone, or the same kana and birth year, exists: book them, or resend with confirm_new_person: true",
            )
            .with_extension("candidates", serde_json::to_value(listed).unwrap_or_default()));
        }
    }
    let now = Utc::now().naive_utc();
    let row = ResidentRow {
        id: ResidentId::generate(),
        organisation_id: organisation,
        search_text: search_text(
            &family_name,
            &given_name,
            &family_name_kana,
            &given_name_kana,
        ),
        family_name,
        given_name,
        family_name_kana,
        given_name_kana,
        phone,
        email: c.email.flatten(),
        birth_year,
        age_band: c.age_band.flatten(),
        district: c.district.flatten(),
        accessibility_needs: c.accessibility_needs.unwrap_or_default(),
        contact_preference: c.contact_preference.unwrap_or_else(|| "phone".into()),
        consent_contact: c.consent_contact.unwrap_or(false),
        consent_data: c.consent_data.unwrap_or(false),
        device: c.device.flatten(),
        notes: c.notes.flatten(),
        merged_into: None,
        created_by: Some(actor),
        created_at: now,
        updated_at: now,
    };
    queries::insert(conn, &row)?;
    crate::audit::record(
        conn,
        crate::audit::Actor::staff(organisation, actor),
        "resident.create",
        "resident",
        row.id,
        format!("registered {}", row.display_name()),
    )?;
    Ok(row)
}

/// Changes a resident's details. Must run inside a write transaction.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ResidentId,
    mut changes: ResidentChanges,
) -> AppResult<ResidentRow> {
    let current = queries::find(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("resident"))?;
    let names_changed = changes.family_name.is_some()
        || changes.given_name.is_some()
        || changes.family_name_kana.is_some()
        || changes.given_name_kana.is_some();
    if names_changed {
        changes.search_text = Some(search_text(
            changes
                .family_name
                .as_deref()
                .unwrap_or(&current.family_name),
            changes.given_name.as_deref().unwrap_or(&current.given_name),
            changes
                .family_name_kana
                .as_deref()
                .unwrap_or(&current.family_name_kana),
            changes
                .given_name_kana
                .as_deref()
                .unwrap_or(&current.given_name_kana),
        ));
    }
    let row = queries::update(conn, id, changes)?;
    crate::audit::record(
        conn,
        crate::audit::Actor::staff(caller.organisation_id, caller.account_id),
        "resident.update",
        "resident",
        id,
        format!("updated {}", row.display_name()),
    )?;
    Ok(row)
}
