//! iCalendar feeds a phone calendar can subscribe to: one per venue and one
//! per instructor. A calendar app cannot send a JWT, so each feed URL carries
//! its own secret token (stored hashed, rotated by asking for a new one,
//! which revokes the old URL).

use actix_web::{HttpResponse, get, post, web};
use chrono::{Duration, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries;
use super::series_routes::org_context;
use super::session_routes::answers;
use super::types::{Session, SessionFilter};
use crate::auth::Caller;
use crate::auth::WRITERS;
use crate::db::{AccountId, VenueId};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::venues::queries as venues;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(rotate_venue_feed)
        .service(rotate_my_feed)
        .service(venue_feed)
        .service(instructor_feed);
}

/// A feed URL with its secret token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedLink {
    /// Path to subscribe to (prefix it with the server's address).
    pub url: String,
    pub token: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The feed's secret token.
    pub token: String,
}

/// Issue (or rotate) a venue's calendar feed link.
#[utoipa::path(
    tag = "schedule",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Venue id")),
    responses(
        (status = 201, description = "The new link; the previous one is revoked", body = FeedLink),
        (status = 404, description = "No such venue in this organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/venues/{id}/calendar-feed")]
async fn rotate_venue_feed(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let id = VenueId(id.into_inner());
    let token = state
        .write(move |conn| {
            venues::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("venue"))?;
            let token =
                queries::rotate_feed(conn, caller.organisation_id, "venue", &id.to_string())?;
            crate::audit::record(
                conn,
                &caller,
                "calendar_feed.rotate",
                "venue",
                id.to_string(),
                "issued a new calendar feed link; the old one stops working",
            )?;
            Ok(token)
        })
        .await?;
    Ok(HttpResponse::Created().json(FeedLink {
        url: format!("/api/v1/venues/{id}/calendar.ics?token={token}"),
        token,
    }))
}

/// Issue (or rotate) the caller's own teaching calendar feed link.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    responses((status = 201, description = "The new link; the previous one is revoked", body = FeedLink))
)]
#[post("/me/calendar-feed")]
async fn rotate_my_feed(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    let me = caller.account_id;
    let token = state
        .write(move |conn| {
            let token =
                queries::rotate_feed(conn, caller.organisation_id, "instructor", &me.to_string())?;
            crate::audit::record(
                conn,
                &caller,
                "calendar_feed.rotate",
                "staff_account",
                me.to_string(),
                "issued a new calendar feed link; the old one stops working",
            )?;
            Ok(token)
        })
        .await?;
    Ok(HttpResponse::Created().json(FeedLink {
        url: format!("/api/v1/instructors/{me}/calendar.ics?token={token}"),
        token,
    }))
}

/// A venue's sessions as iCalendar (from 30 days ago to the horizon).
#[utoipa::path(
    tag = "schedule",
    params(("id" = Uuid, Path, description = "Venue id"), FeedQuery),
    responses(
        (status = 200, description = "text/calendar", content_type = "text/calendar", body = String),
        (status = 401, description = "Unknown or revoked feed token (`invalid_feed_token`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/venues/{id}/calendar.ics")]
async fn venue_feed(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<FeedQuery>,
) -> AppResult<HttpResponse> {
    feed(state, "venue", id.into_inner(), query.into_inner().token).await
}

/// An instructor's sessions as iCalendar (from 30 days ago to the horizon).
#[utoipa::path(
    tag = "schedule",
    params(("id" = Uuid, Path, description = "Instructor's account id"), FeedQuery),
    responses(
        (status = 200, description = "text/calendar", content_type = "text/calendar", body = String),
        (status = 401, description = "Unknown or revoked feed token (`invalid_feed_token`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/instructors/{id}/calendar.ics")]
async fn instructor_feed(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<FeedQuery>,
) -> AppResult<HttpResponse> {
    feed(
        state,
        "instructor",
        id.into_inner(),
        query.into_inner().token,
    )
    .await
}

async fn feed(
    state: web::Data<AppState>,
    scope: &'static str,
    target: Uuid,
    token: String,
) -> AppResult<HttpResponse> {
    let app = state.clone();
    let (name, sessions) = state
        .db(move |conn| {
            let organisation = queries::feed_owner(conn, scope, &target.to_string(), &token)?
                .ok_or_else(|| {
                    AppError::unauthorized(
                        "invalid_feed_token",
                        "this calendar link is unknown or was replaced",
                    )
                })?;
            let ctx = org_context(conn, &app, organisation, None)?;
            let filter = SessionFilter {
                from: Some(crate::calendar::Instant::At(
                    Utc::now() - Duration::days(30),
                )),
                venue_id: (scope == "venue").then_some(target),
                ..Default::default()
            };
            let instructor = (scope == "instructor").then_some(AccountId(target));
            let rows = queries::list_sessions(conn, organisation, &filter, instructor, None, 2000)?;
            let name = match scope {
                "venue" => venues::find(conn, organisation, VenueId(target))?
                    .map(|v| v.name)
                    .unwrap_or_default(),
                _ => "担当クラス".to_owned(),
            };
            Ok((name, answers(conn, &ctx, rows)?))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(render(&name, &sessions)))
}

/// Renders sessions as an iCalendar document (UTC times; cancelled sessions
/// stay in the feed marked CANCELLED so subscribed phones remove them).
pub fn render(name: &str, sessions: &[Session]) -> String {
    let mut calendar = Calendar::new();
    calendar.name(&format!("madoguchi: {name}"));
    for s in sessions {
        let mut event = icalendar::Event::new();
        let title = if s.status == crate::schedule::types::SessionStatus::Cancelled {
            format!("【中止】{}", s.course.title)
        } else {
            s.course.title.clone()
        };
        let location = match &s.room {
            Some(room) => format!("{} {room}", s.venue.name),
            None => s.venue.name.clone(),
        };
        let teachers: Vec<&str> = s.instructors.iter().map(|i| i.name.as_str()).collect();
        let hours = match &s.venue_hours {
            Some(h) => format!(
                "\n開館時間: {}–{}",
                h.opens.format("%H:%M"),
                h.closes.format("%H:%M")
            ),
            None => String::new(),
        };
        event
            .uid(&format!("{}@madoguchi", s.id))
            .summary(&title)
            .location(&location)
            .description(&format!(
                "定員 {} / 予約 {} / 空き {} / キャンセル待ち {}\n講師: {}{hours}",
                s.capacity,
                s.seats_taken,
                s.seats_left,
                s.waitlist_count,
                teachers.join("、")
            ))
            .starts(s.starts_at)
            .ends(s.ends_at)
            .status(
                if s.status == crate::schedule::types::SessionStatus::Cancelled {
                    EventStatus::Cancelled
                } else {
                    EventStatus::Confirmed
                },
            );
        calendar.push(event.done());
    }
    calendar.done().to_string()
}
