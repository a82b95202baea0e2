//! `/api/v1/devices`: the loaner inventory and each device's history.

use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries;
use super::service;
use super::types::{
    Device, DeviceEvent, DeviceFilter, DeviceStatus, DeviceStatusChange, Loan, NewDevice,
};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::db::DeviceId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;
use crate::validate::optional_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_device)
        .service(list_devices)
        .service(get_device)
        .service(change_status);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub device: Device,
    /// Every status change and loan, oldest first.
    pub history: Vec<DeviceEvent>,
    pub loans: Vec<Loan>,
}

/// Add a loaner device to a venue's pool.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    request_body = NewDevice,
    responses(
        (status = 201, description = "Added", body = Device),
        (status = 409, description = "Asset tag already used (`asset_tag_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown venue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/devices")]
async fn create_device(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewDevice>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let fields = service::NewDeviceFields::parse(body.0)?;
    let device = state
        .write(move |conn| service::create_device(conn, &caller, fields).map(Device::from))
        .await?;
    Ok(HttpResponse::Created().json(device))
}

/// List devices.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    params(DeviceFilter),
    responses((status = 200, description = "One page of devices", body = Page<Device>))
)]
#[get("/devices")]
async fn list_devices(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<DeviceFilter>,
) -> AppResult<web::Json<Page<Device>>> {
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    let rows = state
        .db(move |conn| Ok(queries::list(conn, caller.organisation_id, &filter, limit)?))
        .await?;
    let items = rows.into_iter().map(Device::from).collect();
    Ok(web::Json(pagination::page(items, limit, |d| {
        d.id.to_string()
    })))
}

/// One device with its full history.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")),
    responses(
        (status = 200, description = "The device", body = DeviceDetail),
        (status = 404, description = "No such device in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/devices/{id}")]
async fn get_device(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<DeviceDetail>> {
    let id = DeviceId(id.into_inner());
    let detail = state
        .db(move |conn| {
            let row = queries::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("device"))?;
            let history = queries::events(conn, id)?
                .into_iter()
                .map(|(kind, detail, actor_id, at)| DeviceEvent {
                    kind,
                    detail,
                    actor_id,
                    at: at.and_utc(),
                })
                .collect();
            let loans = queries::loans_of_device(conn, id)?
                .into_iter()
                .map(Loan::from)
                .collect();
            Ok(DeviceDetail {
                device: row.into(),
                history,
                loans,
            })
        })
        .await?;
    Ok(web::Json(detail))
}

/// Send a device to maintenance, back to the pool, or retire it.
#[utoipa::path(
    tag = "devices",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")),
    request_body = DeviceStatusChange,
    responses(
        (status = 200, description = "Changed", body = Device),
        (status = 404, description = "No such device in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "On loan or retired (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/devices/{id}/status")]
async fn change_status(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<DeviceStatusChange>,
) -> AppResult<web::Json<Device>> {
    caller.require(WRITERS)?;
    let id = DeviceId(id.into_inner());
    let to = match DeviceStatus::parse(&body.0.status) {
        Some(s @ (DeviceStatus::Available | DeviceStatus::Maintenance | DeviceStatus::Retired)) => {
            s
        }
        _ => {
            return Err(AppError::invalid_field(
                "status",
                "must be available, maintenance or retired",
            ));
        }
    };
    let note = optional_text(body.0.note.as_deref(), 1000)
        .map_err(|m| AppError::invalid_field("note", m))?;
    let device = state
        .write(move |conn| {
            service::change_status(conn, &caller, id, to, note.as_deref()).map(Device::from)
        })
        .await?;
    Ok(web::Json(device))
}
