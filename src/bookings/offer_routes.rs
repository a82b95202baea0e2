//! `/api/v1/bookings/{id}/accept-offer` and `/decline-offer`: answering a
//! seat held for a waiting resident (see `offers`).

use actix_web::{post, web};
use uuid::Uuid;

use super::offers;
use super::routes::{answer, answer_of};
use super::types::{DeclineOffer, OfferAnswered};
use crate::audit::Actor;
use crate::auth::{Caller, WRITERS};
use crate::db::BookingId;
use crate::error::{AppError, AppResult, Problem};
use crate::http::OptionalJson;
use crate::state::AppState;
use crate::validate::optional_text;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(accept_offer).service(decline_offer);
}

/// The resident takes the seat held for them (they said yes on the phone):
/// the booking is confirmed.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, description = "Confirmed", body = OfferAnswered),
        (status = 404, description = "No such booking in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No offer to answer (`not_offered`) or its time has passed (`offer_expired`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/bookings/{id}/accept-offer")]
async fn accept_offer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<OfferAnswered>> {
    caller.require(WRITERS)?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let id = BookingId(id.into_inner());
    let answered = state
        .write(move |conn| {
            let actor = Actor::staff(caller.organisation_id, caller.account_id);
            let row = offers::accept(conn, actor, id, turnaround)?;
            Ok(OfferAnswered {
                booking: answer(conn, row)?,
                offered: None,
                promoted: None,
            })
        })
        .await?;
    Ok(web::Json(answered))
}

/// The resident does not want the seat held for them: the booking is
/// cancelled and the seat passes to the next in line (held for them in
/// turn) or becomes free.
#[utoipa::path(
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body(content = Option<DeclineOffer>, description = "Optional reason"),
    responses(
        (status = 200, description = "Declined; where the seat went", body = OfferAnswered),
        (status = 404, description = "No such booking in this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No offer to answer (`not_offered`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason too long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/bookings/{id}/decline-offer")]
async fn decline_offer(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: OptionalJson<DeclineOffer>,
) -> AppResult<web::Json<OfferAnswered>> {
    caller.require(WRITERS)?;
    let reason = optional_text(body.0.and_then(|b| b.reason).as_deref(), 500)
        .map_err(|m| AppError::invalid_field("reason", m))?
        .unwrap_or_else(|| "the resident declined the offered seat".to_owned());
    let turnaround = state.settings.loaners.turnaround_minutes;
    let id = BookingId(id.into_inner());
    let answered = state
        .write(move |conn| {
            let actor = Actor::staff(caller.organisation_id, caller.account_id);
            let (row, freed) = offers::decline(conn, actor, id, &reason, turnaround)?;
            Ok(OfferAnswered {
                booking: answer(conn, row)?,
                offered: answer_of(conn, caller.organisation_id, freed.offered())?,
                promoted: answer_of(conn, caller.organisation_id, freed.promoted())?,
            })
        })
        .await?;
    Ok(web::Json(answered))
}
