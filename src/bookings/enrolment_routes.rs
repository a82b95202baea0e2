//! Enrolments: `/api/v1/series/{id}/enrolments`, `/api/v1/courses/{id}/enrolments`,
//! their withdrawal, and the coordinators' list of sessions stored later
//! that could not seat an enrolled resident (`/api/v1/enrolment-conflicts`).
//! The rules are in `bookings::enrolment`.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::enrolment::{self, Conflict, CourseEnrolment, Enrolment, Terms};
use super::service;
use super::types::{Channel, NoLoaner};
use crate::auth::{Caller, WRITERS};
use crate::db::{CourseEnrolmentId, CourseId, EnrolmentConflictId, SeriesId};
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::required_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(enrol)
        .service(cancel_enrolment)
        .service(enrol_course)
        .service(cancel_course_enrolment)
        .service(list_conflicts)
        .service(retry_conflict)
        .service(dismiss_conflict);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    pub resident_id: Uuid,
    pub channel: Channel,
    #[serde(default)]
    pub needs_loaner: bool,
    /// When a session has no free loaner device: book that seat without
    /// one, or wait for a device. Absent: 409 `no_loaner_available` and
    /// nothing is booked. Sessions stored later follow the same choice
    /// (absent: the seat is kept and the device waitlisted).
    pub if_no_loaner: Option<NoLoaner>,
    /// Enrol a resident the course's eligibility does not admit, saying why.
    pub override_eligibility_reason: Option<String>,
}

impl NewEnrolment {
    fn terms(self) -> AppResult<Terms> {
        Ok(Terms {
            resident: self.resident_id,
            channel: self.channel,
            needs_loaner: self.needs_loaner,
            if_no_loaner: self.if_no_loaner,
            override_eligibility_reason: service::reason(
                "override_eligibility_reason",
                self.override_eligibility_reason.as_deref(),
            )?,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelEnrolment {
    pub reason: String,
}

fn reason_of(body: CancelEnrolment) -> AppResult<String> {
    required_text(&body.reason, 500).map_err(|m| AppError::invalid_field("reason", m))
}

/// Enrol a resident in a series: every remaining session now (all seats or
/// none), and every session stored later.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Series id")),
    request_body = NewEnrolment,
    responses(
        (status = 201, description = "Enrolled, with one booking per session", body = Enrolment),
        (status = 404, description = "No such series in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A session is full (`session_full`), already booked, no loaner free (`no_loaner_available`), not eligible (`not_eligible`, `eligibility_unknown`), or none remain (`nothing_to_enrol`); `session_id` names the session", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/series/{id}/enrolments")]
async fn enrol(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<NewEnrolment>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let series = SeriesId(id.into_inner());
    let terms = body.0.terms()?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let enrolment = state
        .write(move |conn| enrolment::enrol(conn, &caller, series, &terms, turnaround))
        .await?;
    Ok(HttpResponse::Created().json(enrolment))
}

/// Cancel an enrolment and its future bookings.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Enrolment id")),
    request_body = CancelEnrolment,
    responses(
        (status = 200, description = "Cancelled, with the bookings cancelled", body = Enrolment),
        (status = 404, description = "No such enrolment in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/enrolments/{id}/cancel")]
async fn cancel_enrolment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CancelEnrolment>,
) -> AppResult<web::Json<Enrolment>> {
    caller.require(WRITERS)?;
    let reason = reason_of(body.0)?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let id = id.into_inner();
    let enrolment = state
        .write(move |conn| enrolment::cancel(conn, &caller, id, &reason, turnaround))
        .await?;
    Ok(web::Json(enrolment))
}

/// Enrol a resident in a whole course: every active series (前期, 後期 …),
/// all sessions of all parts or none, and parts stored later.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Course id")),
    request_body = NewEnrolment,
    responses(
        (status = 201, description = "Enrolled in every part", body = CourseEnrolment),
        (status = 404, description = "No such course in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "As for a series enrolment; nothing is booked in any part", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/courses/{id}/enrolments")]
async fn enrol_course(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<NewEnrolment>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let course = CourseId(id.into_inner());
    let terms = body.0.terms()?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let enrolment = state
        .write(move |conn| enrolment::enrol_course(conn, &caller, course, &terms, turnaround))
        .await?;
    Ok(HttpResponse::Created().json(enrolment))
}

/// Withdraw from a whole course: every part and its future bookings.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Course enrolment id")),
    request_body = CancelEnrolment,
    responses(
        (status = 200, description = "Withdrawn, with the bookings cancelled per part", body = CourseEnrolment),
        (status = 404, description = "No such course enrolment in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/course-enrolments/{id}/cancel")]
async fn cancel_course_enrolment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CancelEnrolment>,
) -> AppResult<web::Json<CourseEnrolment>> {
    caller.require(WRITERS)?;
    let reason = reason_of(body.0)?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let id = CourseEnrolmentId(id.into_inner());
    let enrolment = state
        .write(move |conn| enrolment::cancel_course(conn, &caller, id, &reason, turnaround))
        .await?;
    Ok(web::Json(enrolment))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConflictFilter {
    /// `open` (default), `resolved` or `dismissed`.
    pub status: Option<String>,
}

/// Sessions stored after an enrolment that could not seat the enrolled
/// resident (or seated them without a device): the coordinators' list.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(ConflictFilter),
    responses(
        (status = 200, description = "Conflicts, soonest session first (at most 500)", body = [Conflict]),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/enrolment-conflicts")]
async fn list_conflicts(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ConflictFilter>,
) -> AppResult<web::Json<Vec<Conflict>>> {
    caller.require(WRITERS)?;
    let status = q.into_inner().status.unwrap_or_else(|| "open".into());
    if !["open", "resolved", "dismissed"].contains(&status.as_str()) {
        return Err(AppError::invalid_field(
            "status",
            "must be open, resolved or dismissed",
        ));
    }
    let items = state
        .db(move |conn| enrolment::conflicts(conn, caller.organisation_id, &status))
        .await?;
    Ok(web::Json(items))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Retried {
    /// Sessions booked for the enrolment.
    pub booked: usize,
}

/// Book the enrolment into every future session of its series it is
/// missing, all or none (after making room); resolves its open conflicts.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conflict id")),
    responses(
        (status = 200, description = "Booked; the enrolment's conflicts are resolved", body = Retried),
        (status = 404, description = "No such conflict", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still no seat (`session_full`, with `session_id`), or not open (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/enrolment-conflicts/{id}/retry")]
async fn retry_conflict(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Retried>> {
    caller.require(WRITERS)?;
    let id = EnrolmentConflictId(id.into_inner());
    let turnaround = state.settings.loaners.turnaround_minutes;
    let booked = state
        .write(move |conn| enrolment::retry_conflict(conn, &caller, id, turnaround))
        .await?;
    Ok(web::Json(Retried { booked }))
}

/// Close a conflict without booking, saying why.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conflict id")),
    request_body = CancelEnrolment,
    responses(
        (status = 204, description = "Dismissed"),
        (status = 404, description = "No such conflict", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not open (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/enrolment-conflicts/{id}/dismiss")]
async fn dismiss_conflict(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CancelEnrolment>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let reason = reason_of(body.0)?;
    let id = EnrolmentConflictId(id.into_inner());
    state
        .write(move |conn| enrolment::dismiss_conflict(conn, &caller, id, &reason))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
