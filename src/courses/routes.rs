//! `/api/v1/courses` and `/api/v1/topics`: admins and coordinators write,
//! all staff read.

use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::queries;
use super::types::{Course, CourseChanges, CourseFilter, CourseInput, NewTopic, Topic, topic_code};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::db::CourseId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::pagination::{self, Page};
use crate::state::AppState;
use crate::validate::{Checker, required_text};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_course)
        .service(list_courses)
        .service(get_course)
        .service(update_course)
        .service(archive_course)
        .service(list_topics)
        .service(create_topic);
}

use super::service::with_topics;

/// Create a course.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = CourseInput,
    responses(
        (status = 201, description = "Created", body = Course),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown topics", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/courses")]
async fn create_course(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<CourseInput>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let (changes, topics) = body.0.parse(true)?;
    let course = state
        .write(move |conn| super::service::create(conn, &caller, changes, topics))
        .await?;
    Ok(HttpResponse::Created().json(course))
}

/// List courses.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(CourseFilter),
    responses((status = 200, description = "One page of courses", body = Page<Course>))
)]
#[get("/courses")]
async fn list_courses(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<CourseFilter>,
) -> AppResult<web::Json<Page<Course>>> {
    let limit = pagination::limit(filter.limit)?;
    let filter = filter.into_inner();
    let items = state
        .db(move |conn| {
            let rows = queries::list(conn, caller.organisation_id, &filter, limit)?;
            let ids: Vec<CourseId> = rows.iter().map(|r| r.id).collect();
            let mut topics = queries::topics_of(conn, &ids)?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    let codes = topics.remove(&r.id.to_string()).unwrap_or_default();
                    Course::new(r, codes)
                })
                .collect())
        })
        .await?;
    Ok(web::Json(pagination::page(items, limit, |c| {
        c.id.to_string()
    })))
}

/// One course.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Course id")),
    responses(
        (status = 200, description = "The course", body = Course),
        (status = 404, description = "No such course in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/courses/{id}")]
async fn get_course(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Course>> {
    let id = CourseId(id.into_inner());
    let course = state
        .db(move |conn| {
            let row = queries::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("course"))?;
            with_topics(conn, row)
        })
        .await?;
    Ok(web::Json(course))
}

/// Change a course; `topics` replaces the list.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Course id")),
    request_body = CourseInput,
    responses(
        (status = 200, description = "Updated", body = Course),
        (status = 404, description = "No such course in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/courses/{id}")]
async fn update_course(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CourseInput>,
) -> AppResult<web::Json<Course>> {
    caller.require(WRITERS)?;
    let (changes, topics) = body.0.parse(false)?;
    change(
        &state,
        caller,
        CourseId(id.into_inner()),
        changes,
        topics,
        "course.update",
    )
    .await
}

/// Archive a course.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Course id")),
    responses(
        (status = 200, description = "Archived", body = Course),
        (status = 404, description = "No such course in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/courses/{id}/archive")]
async fn archive_course(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Course>> {
    caller.require(WRITERS)?;
    let changes = CourseChanges {
        active: Some(false),
        ..Default::default()
    };
    change(
        &state,
        caller,
        CourseId(id.into_inner()),
        changes,
        None,
        "course.archive",
    )
    .await
}

async fn change(
    state: &AppState,
    caller: Caller,
    id: CourseId,
    changes: CourseChanges,
    topics: Option<Vec<String>>,
    action: &'static str,
) -> AppResult<web::Json<Course>> {
    let course = state
        .write(move |conn| super::service::change(conn, &caller, id, changes, topics, action))
        .await?;
    Ok(web::Json(course))
}

/// The topics courses can be tagged with: the shared list and the
/// organisation's own.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    responses((status = 200, description = "All topics", body = Vec<Topic>))
)]
#[get("/topics")]
async fn list_topics(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<Vec<Topic>>> {
    let rows = state
        .db(move |conn| Ok(queries::visible_topics(conn, caller.organisation_id)?))
        .await?;
    Ok(web::Json(rows.into_iter().map(Topic::from).collect()))
}

/// Add a topic of the organisation's own.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = NewTopic,
    responses(
        (status = 201, description = "Created", body = Topic),
        (status = 409, description = "The code exists (`topic_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/topics")]
async fn create_topic(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewTopic>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let mut v = Checker::new();
    let code = v.check("code", topic_code(&body.0.code));
    let label = v.check("label", required_text(&body.0.label, 100));
    v.finish()?;
    let row = state
        .write(move |conn| {
            let row = queries::insert_topic(conn, caller.organisation_id, &code, &label)?;
            crate::audit::record(
                conn,
                &caller,
                "topic.create",
                "topic",
                code.clone(),
                format!("added topic {code}"),
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(Topic::from(row)))
}
