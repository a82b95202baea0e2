//! `/api/v1/organisation`: the caller's organisation; admins rename it and
//! set its timezone.

use actix_web::{get, patch, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Organisation, queries};
use crate::auth::Caller;
use crate::auth::Role;
use crate::calendar::{self, OpeningHours, WEEKDAYS};
use crate::error::{AppResult, Problem};
use crate::http::ApiJson;
use crate::state::AppState;
use crate::validate::{Checker, optional_text, required_text};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_organisation)
        .service(update_organisation)
        .service(get_opening_hours)
        .service(set_opening_hours);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    pub name: Option<String>,
    /// IANA timezone, e.g. `Asia/Tokyo`. Sessions keep their instants; their
    /// local times are shown in the new zone.
    pub timezone: Option<String>,
    /// The number residents call (printed in letters); `""` clears it.
    pub contact_phone: Option<String>,
    /// Closing lines of every letter; `""` clears it.
    pub mail_signature: Option<String>,
    /// When reminders go out, e.g. `["24h", "2h"]` or `["1d@10:00"]`
    /// (the default); `[]` sends none.
    pub reminders: Option<Vec<String>>,
    /// Erase residents without activity for this many months (12–120);
    /// `null` turns the retention job off for the organisation.
    #[serde(
        default,
        deserialize_with = "crate::validate::double_option::deserialize"
    )]
    #[schema(value_type = Option<i32>)]
    pub retention_months: Option<Option<i64>>,
    /// Draw residents with recent no-shows after everyone else in lotteries.
    pub lottery_no_shows_last: Option<bool>,
}

/// Parses an IANA timezone name.
pub fn parse_timezone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| format!("unknown timezone {name:?}: use an IANA name such as Asia/Tokyo"))
}

/// The caller's organisation.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    responses((status = 200, description = "The organisation", body = Organisation))
)]
#[get("/organisation")]
async fn get_organisation(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<Organisation>> {
    let row = state
        .db(move |conn| Ok(queries::get(conn, caller.organisation_id)?))
        .await?;
    Ok(web::Json(row.into()))
}

/// Rename the organisation or change its timezone (admins).
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    request_body = UpdateOrganisation,
    responses(
        (status = 200, description = "Updated", body = Organisation),
        (status = 409, description = "Name used by another organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, e.g. an unknown timezone", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organisation")]
async fn update_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<UpdateOrganisation>,
) -> AppResult<web::Json<Organisation>> {
    caller.require(&[Role::Admin])?;
    let mut v = Checker::new();
    let name = body
        .0
        .name
        .as_deref()
        .map(|n| v.check("name", required_text(n, 200)));
    let timezone = body.0.timezone.as_deref().map(|tz| {
        v.check(
            "timezone",
            parse_timezone(tz).map(|tz| tz.name().to_owned()),
        )
    });
    let contact_phone = body
        .0
        .contact_phone
        .as_deref()
        .map(|p| v.check("contact_phone", optional_text(Some(p), 30)));
    let mail_signature = body
        .0
        .mail_signature
        .as_deref()
        .map(|s| v.check("mail_signature", optional_text(Some(s), 1000)));
    let reminder_rules = body.0.reminders.as_ref().map(|list| {
        v.check(
            "reminders",
            calendar::reminder::Rule::parse_list(&list.join(",")).map(|rules| {
                rules
                    .iter()
                    .map(calendar::reminder::Rule::key)
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        )
    });
    let retention_months = body.0.retention_months.map(|m| match m {
        Some(months) if (12..=120).contains(&months) => Some(months as i32),
        Some(_) => {
            v.fail("retention_months", "must be between 12 and 120 months");
            None
        }
        None => None,
    });
    v.finish()?;
    let changes = crate::organisations::OrganisationChanges {
        name,
        timezone,
        contact_phone,
        mail_signature,
        reminder_rules,
        retention_months,
        lottery_no_shows_last: body.0.lottery_no_shows_last,
    };
    let row = state
        .write(move |conn| {
            let row = queries::update(conn, caller.organisation_id, changes)?;
            crate::audit::record(
                conn,
                &caller,
                "organisation.update",
                "organisation",
                caller.organisation_id.to_string(),
                format!("name {}, timezone {}", row.name, row.timezone),
            )?;
            Ok(row)
        })
        .await?;
    Ok(web::Json(row.into()))
}

/// The desk's opening hours per weekday (used for service levels). Without
/// any set, Monday–Friday 09:00–17:00 applies.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    responses((status = 200, description = "Opening hours", body = Vec<OpeningHours>))
)]
#[get("/organisation/opening-hours")]
async fn get_opening_hours(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<Vec<OpeningHours>>> {
    let stored = state
        .db(move |conn| Ok(calendar::hours::stored_hours(conn, caller.organisation_id)?))
        .await?;
    let hours = if stored.is_empty() {
        calendar::BusinessCalendar::default_hours()
            .iter()
            .enumerate()
            .filter_map(|(day, h)| h.map(|(opens, closes)| (day as i32, opens, closes)))
            .collect()
    } else {
        stored
    };
    Ok(web::Json(
        hours
            .into_iter()
            .map(|(day, opens, closes)| OpeningHours {
                weekday: WEEKDAYS[day as usize % 7].to_owned(),
                opens,
                closes,
            })
            .collect(),
    ))
}

/// Replace the opening hours (admins). Days not listed are closed.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    request_body = Vec<OpeningHours>,
    responses(
        (status = 200, description = "Saved", body = Vec<OpeningHours>),
        (status = 422, description = "Unknown weekday, a day twice, or closing before opening", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/organisation/opening-hours")]
async fn set_opening_hours(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<Vec<OpeningHours>>,
) -> AppResult<web::Json<Vec<OpeningHours>>> {
    caller.require(&[Role::Admin])?;
    let mut hours = calendar::hours::parse_week(&body.0)?;
    let saved = hours.clone();
    state
        .write(move |conn| {
            calendar::hours::replace_hours(conn, caller.organisation_id, &saved)?;
            crate::audit::record(
                conn,
                &caller,
                "organisation.opening_hours",
                "organisation",
                caller.organisation_id.to_string(),
                format!("{} open day(s)", saved.len()),
            )?;
            Ok(())
        })
        .await?;
    hours.sort();
    Ok(web::Json(
        hours
            .into_iter()
            .map(|(day, opens, closes)| OpeningHours {
                weekday: WEEKDAYS[day as usize].to_owned(),
                opens,
                closes,
            })
            .collect(),
    ))
}
