//! `/api/v1/closures`: days or parts of days the organisation is closed
//! (年末年始, 館内点検 …). Series skip them when they are expanded.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{Duration, NaiveTime, Utc};
use uuid::Uuid;

use super::queries;
use super::series_routes::context;
use super::service::Context;
use super::session_routes::answers;
use super::types::{Closure, ClosureCreated, ClosureFilter, ClosureRow, NewClosure};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::db::{ClosureId, DbConnection, VenueId};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::{Checker, required_text};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_closure)
        .service(list_closures)
        .service(delete_closure);
}

/// Add a closure. Series skip it from now on; sessions already scheduled
/// inside it are listed, not cancelled (they may have bookings).
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    request_body = NewClosure,
    responses(
        (status = 201, description = "Created, with the sessions it overlaps", body = ClosureCreated),
        (status = 422, description = "Invalid fields, e.g. an end before the start", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/closures")]
async fn create_closure(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewClosure>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let req = body.0;
    let app = state.clone();
    let created = state
        .write(move |conn| {
            let ctx = context(conn, &app, &caller)?;
            add(conn, &ctx, req)
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Checks and stores a closure; answers it with the sessions already
/// scheduled inside it (listed, not cancelled: they may have bookings).
pub fn add(conn: &mut DbConnection, ctx: &Context, req: NewClosure) -> AppResult<ClosureCreated> {
    let mut v = Checker::new();
    let reason = v.check("reason", required_text(&req.reason, 200));
    for (field, date) in [("start_date", req.start_date), ("end_date", req.end_date)] {
        if let Err(m) = crate::validate::within_horizon(date) {
            v.fail(field, m);
        }
    }
    v.finish()?;
    let mut v = Checker::new();
    let starts_local = req
        .start_date
        .and_time(req.start_time.unwrap_or(NaiveTime::MIN));
    let ends_local = match req.end_time {
        Some(t) => req.end_date.and_time(t),
        None => (req.end_date + Duration::days(1)).and_time(NaiveTime::MIN),
    };
    if ends_local <= starts_local {
        v.fail("end_date", "the closure must end after it starts");
    } else if ends_local - starts_local > Duration::days(366) {
        v.fail("end_date", "a closure lasts at most a year");
    }
    v.finish()?;
    let venue = match req.venue_id {
        Some(id) => Some(
            crate::venues::queries::find(conn, ctx.organisation, VenueId(id))?
                .ok_or_else(|| AppError::invalid_field("venue_id", "no such venue"))?
                .id,
        ),
        None => None,
    };
    let row = ClosureRow {
        venue_id: venue,
        id: ClosureId::generate(),
        organisation_id: ctx.organisation,
        starts_local,
        ends_local,
        reason,
        created_at: Utc::now().naive_utc(),
    };
    queries::insert_closure(conn, &row)?;
    let from = crate::calendar::to_utc(&ctx.tz, starts_local).naive_utc();
    let to = crate::calendar::to_utc(&ctx.tz, ends_local).naive_utc();
    let overlapping = queries::sessions_overlapping(conn, ctx.organisation, venue, from, to)?;
    crate::audit::record(
        conn,
        crate::audit::Actor {
            organisation: ctx.organisation,
            account: ctx.actor,
        },
        "closure.create",
        "closure",
        row.id.to_string(),
        format!("closed {starts_local} – {ends_local}: {}", row.reason),
    )?;
    Ok(ClosureCreated {
        closure: row.into(),
        overlapping_sessions: answers(conn, ctx, overlapping)?,
    })
}

/// The organisation's closures, in date order.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(ClosureFilter),
    responses((status = 200, description = "Closures", body = Vec<Closure>))
)]
#[get("/closures")]
async fn list_closures(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<ClosureFilter>,
) -> AppResult<web::Json<Vec<Closure>>> {
    let filter = filter.into_inner();
    let rows = state
        .db(move |conn| {
            Ok(queries::list_closures(
                conn,
                caller.organisation_id,
                &filter,
            )?)
        })
        .await?;
    Ok(web::Json(rows.into_iter().map(Closure::from).collect()))
}

/// Remove a closure. Series regain those dates when they are next edited or
/// extended.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Closure id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such closure in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/closures/{id}")]
async fn delete_closure(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let id = ClosureId(id.into_inner());
    state.write(move |conn| remove(conn, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a closure (404 when it is not the organisation's).
pub fn remove(conn: &mut DbConnection, caller: &Caller, id: ClosureId) -> AppResult<()> {
    let row = queries::delete_closure(conn, caller.organisation_id, id)?
        .ok_or_else(|| AppError::not_found("closure"))?;
    crate::audit::record(
        conn,
        caller,
        "closure.delete",
        "closure",
        id.to_string(),
        format!("removed closure {}", row.reason),
    )?;
    Ok(())
}
