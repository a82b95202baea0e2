//! `/api/v1/residents`: admins and coordinators create and edit; all staff
//! read and search.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::Utc;
use uuid::Uuid;

use super::names;
use super::queries;
use super::types::{
    Resident, ResidentChanges, ResidentDetail, ResidentFilter, ResidentInput, ResidentRow,
    created_by, search_text,
};
use crate::audit;
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::auth::access::{self, View};
use crate::db::{AccountId, DbConnection, OrganisationId, ResidentId, write_tx};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_resident)
        .service(list_residents)
        .service(get_resident)
        .service(update_resident);
}

fn audit(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    actor: AccountId,
    action: &str,
    id: ResidentId,
    summary: String,
) -> AppResult<()> {
    audit::write(
        conn,
        organisation,
        Some(actor),
        action,
        "resident",
        id,
        summary,
    )?;
    Ok(())
}

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
        created_by: created_by(actor),
        created_at: now,
        updated_at: now,
    };
    queries::insert(conn, &row)?;
    audit(
        conn,
        organisation,
        actor,
        "resident.create",
        row.id,
        format!("registered {}", row.display_name()),
    )?;
    Ok(row)
}

/// Register a resident.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    request_body = ResidentInput,
    responses(
        (status = 201, description = "Registered", body = Resident),
        (status = 409, description = "Possibly an existing resident (`possible_duplicate`, with `candidates`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/residents")]
async fn create_resident(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<ResidentInput>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let changes = body.0.parse(true)?;
    let confirm = body.0.confirm_new_person;
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                create(
                    conn,
                    caller.organisation_id,
                    caller.account_id,
                    changes,
                    confirm,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(Resident::from(row)))
}

/// Find residents by name, kana (any script or width) or part of the phone.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    params(ResidentFilter),
    responses((status = 200, description = "One page of residents", body = Page<Resident>))
)]
#[get("/residents")]
async fn list_residents(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<ResidentFilter>,
) -> AppResult<web::Json<Page<Resident>>> {
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    let items = state
        .db(move |conn| {
            let rows = queries::list(conn, caller.organisation_id, &filter, limit)?;
            let ids: Vec<ResidentId> = rows.iter().map(|r| r.id).collect();
            let full = access::fully_visible(conn, &caller, &ids)?;
            Ok(rows
                .into_iter()
                .map(|row| {
                    let view = if full.contains(&row.id) {
                        View::Full
                    } else {
                        View::Limited
                    };
                    Resident::from(row).shaped(view)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(web::Json(pagination::page(items, limit, |r| {
        r.id.to_string()
    })))
}

/// One resident, with attendance and no-show counts.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The resident", body = ResidentDetail),
        (status = 404, description = "No such resident in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/residents/{id}")]
async fn get_resident(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<ResidentDetail>> {
    let id = ResidentId(id.into_inner());
    let detail = state
        .db(move |conn| {
            let row = queries::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("resident"))?;
            let (attended_count, no_show_count) = queries::attendance_counts(conn, id)?;
            let view = access::view_of(conn, &caller, id)?;
            Ok(ResidentDetail {
                resident: Resident::from(row).shaped(view),
                attended_count,
                no_show_count,
            })
        })
        .await?;
    Ok(web::Json(detail))
}

/// Change a resident's details.
#[utoipa::path(
    tag = "residents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Resident id")),
    request_body = ResidentInput,
    responses(
        (status = 200, description = "Updated", body = Resident),
        (status = 404, description = "No such resident in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/residents/{id}")]
async fn update_resident(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<ResidentInput>,
) -> AppResult<web::Json<Resident>> {
    caller.require(WRITERS)?;
    let mut changes = body.0.parse(false)?;
    let id = ResidentId(id.into_inner());
    let row = state
        .db(move |conn| {
            write_tx(conn, |conn| {
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
                audit(
                    conn,
                    caller.organisation_id,
                    caller.account_id,
                    "resident.update",
                    id,
                    format!("updated {}", row.display_name()),
                )?;
                Ok(row)
            })
        })
        .await?;
    Ok(web::Json(row.into()))
}
