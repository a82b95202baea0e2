//! `/api/v1/sessions/{id}/draw`: the record of a session's lottery (its
//! seed and every application in drawn order, with why it stands where it
//! does), and drawing it by hand once applications have closed.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::lottery::{self, NoShowRule};
use super::queries;
use super::service::session_of;
use super::types::{BookingStatus, ResidentRef};
use crate::auth::{Caller, WRITERS};
use crate::db::{AccountId, BookingId, DbConnection, OrganisationId, SessionId};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_draw).service(draw_now);
}

/// One application in drawn order.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawEntry {
    /// 1 = drawn first.
    pub position: i32,
    pub booking_id: BookingId,
    pub reference: String,
    pub resident: ResidentRef,
    /// Never attended a class of the course when drawn.
    pub first_timer: bool,
    /// Had recent no-shows when drawn.
    pub recent_no_shows: bool,
    /// 0 is drawn first: the published priority rules (see `how`).
    pub group: u8,
    /// SHA-256 of `seed:booking_id`, hex; lower is drawn earlier within a group.
    pub ticket: String,
    /// `won`, `waitlisted` or `not_drawn`.
    pub outcome: String,
    /// The booking's status now (it may have moved since: a promotion, a cancellation).
    pub status_now: BookingStatus,
    /// Why this application stands where it does, in a sentence.
    pub why: String,
}

/// The record of a session's draw.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawRecord {
    pub session_id: SessionId,
    /// The random seed (256 bits, hex), drawn when the draw ran.
    pub seed: String,
    pub algorithm: String,
    pub drawn_at: DateTime<Utc>,
    /// The coordinator who drew it by hand; `null`: the scheduled job.
    pub drawn_by: Option<AccountId>,
    pub capacity: i32,
    /// Seats the draw could give.
    pub seats_free: i32,
    pub applicants: i32,
    pub winners: i32,
    pub first_timers_first: bool,
    pub no_shows_last: bool,
    /// Recent no-shows meant this many in the last `no_show_months`.
    pub no_show_count: i32,
    pub no_show_months: i32,
    /// Recomputing the order from `seed` and the entries' facts gives the
    /// stored order.
    pub reproduced: bool,
    /// How the order is made, to read to anyone who asks.
    pub how: String,
    /// Every application, in drawn order.
    pub entries: Vec<DrawEntry>,
}

fn group_words(g: u8) -> &'static str {
    match g {
        0 => "first group",
        1 => "second group (attended this course before)",
        2 => "third group (recent no-shows)",
        _ => "last group (recent no-shows, attended before)",
    }
}

/// The draw of a session as answered (the console reads it too).
pub fn load(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: SessionId,
) -> AppResult<DrawRecord> {
    session_of(conn, organisation, id)?;
    let (draw, entries) = lottery::record(conn, organisation, id)?.ok_or_else(|| {
        AppError::client(
            actix_web::http::StatusCode::NOT_FOUND,
            "not_drawn",
            "this session has no draw (yet): see its allocation and draw_at",
        )
    })?;
    let reproduced = lottery::reproduces(&draw, &entries);
    let priority = lottery::Priority {
        first_timers_first: draw.first_timers_first,
        no_shows_last: draw.no_shows_last,
    };
    // Every booking of the session with its resident, in one query.
    let mut of_session: std::collections::HashMap<BookingId, _> = queries::of_session(conn, id)?
        .into_iter()
        .map(|(b, r)| (b.id, (b, r)))
        .collect();
    let mut out = Vec::with_capacity(entries.len());
    for e in &entries {
        let (booking, resident) = of_session
            .remove(&e.booking_id)
            .ok_or_else(|| AppError::not_found("booking"))?;
        let group = lottery::group(
            &lottery::Applicant {
                booking: e.booking_id.to_string(),
                first_timer: e.first_timer,
                recent_no_shows: e.recent_no_shows,
            },
            priority,
        );
        let why = format!(
            "drawn {} of {} ({}, ticket {}…); {} seat(s) could be given: {}",
            e.position,
            draw.applicants,
            group_words(group),
            &e.ticket[..8],
            draw.seats_free,
            match e.outcome.as_str() {
                "won" => "a seat".to_owned(),
                "waitlisted" => "no seat left, so the waitlist in drawn order".to_owned(),
                _ => "no seat left and the session has no waitlist".to_owned(),
            }
        );
        out.push(DrawEntry {
            position: e.position,
            booking_id: e.booking_id,
            reference: booking.reference.clone(),
            resident: queries::resident_ref(&resident),
            first_timer: e.first_timer,
            recent_no_shows: e.recent_no_shows,
            group,
            ticket: e.ticket.clone(),
            outcome: e.outcome.clone(),
            status_now: booking.status,
            why,
        });
    }
    let mut how = String::from(
        "Each application's ticket is the SHA-256 of the seed, a colon and the booking id (hex). \
         Applications are ordered by group, then by ticket, lowest first; the first ones get the free seats, \
         the rest join the waitlist in that order.",
    );
    if draw.first_timers_first {
        how.push_str(
            " Residents who never attended a class of this course are drawn before those who did.",
        );
    }
    if draw.no_shows_last {
        how.push_str(&format!(
            " Residents with {} or more no-shows in the {} months before the draw are drawn after everyone else.",
            draw.no_show_count, draw.no_show_months
        ));
    }
    Ok(DrawRecord {
        session_id: draw.session_id,
        seed: draw.seed,
        algorithm: draw.algorithm,
        drawn_at: draw.drawn_at.and_utc(),
        drawn_by: draw.drawn_by,
        capacity: draw.capacity,
        seats_free: draw.seats_free,
        applicants: draw.applicants,
        winners: draw.winners,
        first_timers_first: draw.first_timers_first,
        no_shows_last: draw.no_shows_last,
        no_show_count: draw.no_show_count,
        no_show_months: draw.no_show_months,
        reproduced,
        how,
        entries: out,
    })
}

/// The record of the session's lottery: its seed, and every application in
/// drawn order with why it stands there.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "The draw", body = DrawRecord),
        (status = 404, description = "No such session, or not drawn (`not_drawn`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sessions/{id}/draw")]
async fn get_draw(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<DrawRecord>> {
    caller.require(WRITERS)?;
    let id = SessionId(id.into_inner());
    let record = state
        .db(move |conn| load(conn, caller.organisation_id, id))
        .await?;
    Ok(web::Json(record))
}

/// Draw the lottery now (e.g. at a public drawing), once its applications
/// have closed; otherwise the job draws it at `draw_at`. Either way it is
/// drawn once.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "Drawn", body = DrawRecord),
        (status = 404, description = "No such session in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a lottery (`not_a_lottery`), applications still open (`applications_open`), already drawn (`already_drawn`) or not scheduled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sessions/{id}/draw")]
async fn draw_now(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<DrawRecord>> {
    caller.require(WRITERS)?;
    let id = SessionId(id.into_inner());
    let rule = NoShowRule {
        count: state.settings.attendance.no_show_warning_count,
        months: state.settings.attendance.no_show_months,
    };
    let turnaround = state.settings.loaners.turnaround_minutes;
    let record = state
        .write(move |conn| {
            let session = session_of(conn, caller.organisation_id, id)?;
            if session.status != crate::schedule::types::SessionStatus::Scheduled {
                return Err(AppError::conflict(
                    "invalid_state",
                    format!("the session is {}", session.status),
                ));
            }
            if session.allocation != crate::schedule::types::Allocation::Lottery {
                return Err(AppError::conflict(
                    "not_a_lottery",
                    "this session's seats are given first come",
                ));
            }
            if session
                .applications_close_at
                .is_some_and(|t| t > Utc::now().naive_utc())
            {
                return Err(AppError::conflict(
                    "applications_open",
                    "applications are still open: the draw can run once they close",
                ));
            }
            let drawn = lottery::draw(
                conn,
                caller.organisation_id,
                id,
                Some(caller.account_id),
                rule,
                turnaround,
            )?;
            if drawn.is_none() {
                return Err(AppError::conflict(
                    "already_drawn",
                    "this lottery has been drawn: see GET /sessions/{id}/draw",
                ));
            }
            load(conn, caller.organisation_id, id)
        })
        .await?;
    Ok(web::Json(record))
}
