//! Structured logs: the subscriber, and a request span with an id that is
//! also returned in the `x-request-id` header.
//!
//! Request logs name the matched route pattern (`/api/v1/staff/{id}`), never
//! the raw query string, so search terms such as phone numbers stay out.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogSettings;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served, in the request extensions.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(pub uuid::Uuid);

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let _ = if settings.format == "json" {
        builder.json().with_current_span(true).try_init()
    } else {
        builder.compact().try_init()
    };
}

/// Middleware: one span per request, a completion log line, the id header.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = uuid::Uuid::new_v4();
    req.extensions_mut().insert(RequestId(id));
    let span = tracing::info_span!(
        "http_request",
        request_id = %id,
        method = %req.method(),
    );
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = res.status().as_u16();
    crate::metrics::observe_request(
        res.request().method().as_str(),
        &route,
        status,
        started.elapsed(),
    );
    span.in_scope(|| {
        tracing::info!(
            route = %route,
            status,
            latency_ms = started.elapsed().as_millis() as u64,
            "request completed"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(res)
}
