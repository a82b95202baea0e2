//! `Idempotency-Key` for creating requests: a retried request with the same
//! key returns the first answer and writes nothing more; the same key with a
//! different body is a 422.
//!
//! The key row is inserted first in the request's transaction, so a parallel
//! retry waits on it (PostgreSQL) or on the write lock (SQLite), then finds
//! the stored answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use crate::auth::tokens;
use crate::db::schema::idempotency_keys;
use crate::db::{DbConnection, OrganisationId, write_tx};
use crate::error::{AppError, AppResult};

pub const HEADER: &str = "Idempotency-Key";

/// The extractor every idempotent POST takes: the request's key (if any,
/// checked) and what the request is (method and path), so one fingerprint
/// (method + path + body) is used everywhere.
pub struct Idempotent {
    key: Option<String>,
    target: String,
}

impl actix_web::FromRequest for Idempotent {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(key_of(req).map(|key| Idempotent {
            key,
            target: format!("{} {}", req.method(), req.path()),
        }))
    }
}

impl Idempotent {
    /// Whether the request carries a key.
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Fixes the request's body into its fingerprint (method + path + body).
    pub fn with_body<B: Serialize>(mut self, body: &B) -> AppResult<Idempotent> {
        self.target = format!(
            "{} {}",
            self.target,
            serde_json::to_string(body).map_err(anyhow::Error::from)?
        );
        Ok(self)
    }

    /// Runs `work` in a write transaction at most once per key, and answers
    /// the first answer to every retry. Call `with_body` first.
    pub async fn run<F>(
        self,
        state: &crate::state::AppState,
        organisation: OrganisationId,
        work: F,
    ) -> AppResult<HttpResponse>
    where
        F: Fn(&mut DbConnection) -> AppResult<Answer> + Send + 'static,
    {
        let fingerprint = self.target;
        let key = self.key;
        let answer = state
            .db(move |conn| {
                once(
                    conn,
                    organisation,
                    key.as_deref(),
                    fingerprint.as_bytes(),
                    work,
                )
            })
            .await?;
        Ok(answer.respond())
    }

    /// `run` for a route that takes a `Bearer`: the caller is looked up
    /// and checked against `allowed` on the same connection, before the
    /// key is (a replay answers only a caller who may still make the
    /// request).
    pub async fn run_as<F>(
        self,
        state: &crate::state::AppState,
        bearer: crate::auth::Bearer,
        allowed: &'static [crate::auth::Role],
        work: F,
    ) -> AppResult<HttpResponse>
    where
        F: Fn(&mut DbConnection, &crate::auth::Caller) -> AppResult<Answer> + Send + 'static,
    {
        let fingerprint = self.target;
        let key = self.key;
        let answer = state
            .db(move |conn| {
                let caller = bearer.caller(conn)?;
                caller.require(allowed)?;
                once(
                    conn,
                    caller.organisation_id,
                    key.as_deref(),
                    fingerprint.as_bytes(),
                    |conn| work(conn, &caller),
                )
            })
            .await?;
        Ok(answer.respond())
    }
}

/// The key of a request, checked: 1–200 visible ASCII characters.
pub fn key_of(req: &HttpRequest) -> AppResult<Option<String>> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1–200 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// A stored or fresh answer: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Answer {
    pub fn new<T: Serialize>(status: StatusCode, body: &T) -> AppResult<Answer> {
        Ok(Answer {
            status: status.as_u16(),
            body: serde_json::to_value(body).map_err(anyhow::Error::from)?,
        })
    }

    pub fn respond(self) -> HttpResponse {
        HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK))
            .json(self.body)
    }
}

/// Runs `work` in a write transaction, at most once per key.
pub fn once<F>(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    key: Option<&str>,
    request: &[u8],
    work: F,
) -> AppResult<Answer>
where
    F: Fn(&mut DbConnection) -> AppResult<Answer>,
{
    let Some(key) = key else {
        return write_tx(conn, |conn| work(conn));
    };
    let request_hash = tokens::digest(&String::from_utf8_lossy(request));
    let mut attempts = 0;
    loop {
        attempts += 1;
        let outcome = write_tx(conn, |conn| {
            let stored: Option<(String, Option<i32>, Option<String>)> = idempotency_keys::table
                .filter(idempotency_keys::organisation_id.eq(organisation))
                .filter(idempotency_keys::idem_key.eq(key))
                .select((
                    idempotency_keys::request_hash,
                    idempotency_keys::response_status,
                    idempotency_keys::response_body,
                ))
                .first(conn)
                .optional()?;
            if let Some((hash, status, body)) = stored {
                if hash != request_hash {
                    return Err(AppError::client(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "idempotency_key_reused",
                        "this Idempotency-Key was already used with a different request",
                    ));
                }
                let body = body
                    .and_then(|b| serde_json::from_str(&b).ok())
                    .unwrap_or_default();
                return Ok(Answer {
                    status: status.unwrap_or(200) as u16,
                    body,
                });
            }
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::organisation_id.eq(organisation),
                    idempotency_keys::idem_key.eq(key),
                    idempotency_keys::request_hash.eq(&request_hash),
                    idempotency_keys::created_at.eq(Utc::now().naive_utc()),
                ))
                .execute(conn)?;
            let answer = work(conn)?;
            diesel::update(
                idempotency_keys::table
                    .filter(idempotency_keys::organisation_id.eq(organisation))
                    .filter(idempotency_keys::idem_key.eq(key)),
            )
            .set((
                idempotency_keys::response_status.eq(i32::from(answer.status)),
                idempotency_keys::response_body.eq(answer.body.to_string()),
            ))
            .execute(conn)?;
            Ok(answer)
        });
        match outcome {
            // A parallel request with the same key committed first: read its answer.
            Err(AppError::Database(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            ))) if attempts < 3 => continue,
            other => return other,
        }
    }
}
