//! `GET /metrics` in the Prometheus text format (the `prometheus` crate):
//! requests by route pattern, method and status with latency histograms,
//! the pool, the outbox, job runs, bookings and tickets created. Labels are
//! route patterns (`/api/v1/bookings/{id}`), job names and statuses — never
//! an id, a name or anything a person typed. Off unless `metrics.token` is
//! set; then the scraper sends it as a bearer token.

use std::sync::LazyLock;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use diesel::prelude::*;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::db::schema::outbox_messages;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Requests waiting for a database connection right now.
static WAITING: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Counts a wait for a database connection while `wait` runs (also when
/// the request is dropped while waiting).
pub async fn waiting_for_connection<F: std::future::Future>(wait: F) -> F::Output {
    use std::sync::atomic::Ordering::Relaxed;
    struct Waiting;
    impl Drop for Waiting {
        fn drop(&mut self) {
            WAITING.fetch_sub(1, Relaxed);
        }
    }
    WAITING.fetch_add(1, Relaxed);
    let _waiting = Waiting;
    wait.await
}

struct Metrics {
    registry: Registry,
    pool_waiting: IntGauge,
    requests: IntCounterVec,
    latency: HistogramVec,
    job_runs: IntCounterVec,
    created: IntCounterVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    outbox_pending: IntGauge,
    outbox_oldest: IntGauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new_custom(Some("madoguchi".into()), None).expect("registry");
    let requests = IntCounterVec::new(
        Opts::new("http_requests_total", "HTTP requests answered"),
        &["method", "route", "status"],
    )
    .expect("metric");
    let latency = HistogramVec::new(
        HistogramOpts::new("http_request_duration_seconds", "Time to answer").buckets(vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ]),
        &["method", "route"],
    )
    .expect("metric");
    let job_runs = IntCounterVec::new(
        Opts::new("job_runs_total", "Background job runs by outcome"),
        &["job", "outcome"],
    )
    .expect("metric");
    let created = IntCounterVec::new(
        Opts::new("created_total", "Bookings and tickets created"),
        &["what"],
    )
    .expect("metric");
    let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("metric");
    let pool_connections = gauge("pool_connections", "Database connections open");
    let pool_idle = gauge("pool_idle_connections", "Database connections idle");
    let pool_waiting = gauge("pool_waiting", "Requests waiting for a database connection");
    let outbox_pending = gauge("outbox_pending", "Mails waiting to be sent");
    let outbox_oldest = gauge(
        "outbox_oldest_pending_seconds",
        "Age of the oldest mail waiting to be sent",
    );
    for m in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(latency.clone()),
        Box::new(job_runs.clone()),
        Box::new(created.clone()),
        Box::new(pool_connections.clone()),
        Box::new(pool_idle.clone()),
        Box::new(pool_waiting.clone()),
        Box::new(outbox_pending.clone()),
        Box::new(outbox_oldest.clone()),
    ] {
        registry.register(m).expect("register");
    }
    Metrics {
        registry,
        pool_waiting,
        requests,
        latency,
        job_runs,
        created,
        pool_connections,
        pool_idle,
        outbox_pending,
        outbox_oldest,
    }
});

/// Counts an answered request (called by the request span middleware).
pub fn observe_request(method: &str, route: &str, status: u16, took: Duration) {
    let m = &*METRICS;
    m.requests
        .with_label_values(&[method, route, &status.to_string()])
        .inc();
    m.latency
        .with_label_values(&[method, route])
        .observe(took.as_secs_f64());
    if status == 201 && method == "POST" {
        let what = match route {
            "/api/v1/sessions/{id}/bookings" | "/api/v1/sessions/{id}/walk-ins" => "booking",
            "/api/v1/tickets" => "ticket",
            _ => return,
        };
        m.created.with_label_values(&[what]).inc();
    }
}

/// Counts a job run: `ok`, `failed`, or `skipped` (another instance held it).
pub fn observe_job(job: &str, outcome: &str) {
    METRICS.job_runs.with_label_values(&[job, outcome]).inc();
}

fn authorised(req: &HttpRequest, token: &str) -> bool {
    let expected = format!("Bearer {token}");
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| {
            given.len() == expected.len()
                && given
                    .bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
}

/// `GET /metrics`: 404 unless `metrics.token` is set, 401 without it.
pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    use secrecy::ExposeSecret;
    let Some(token) = state
        .settings
        .metrics
        .token
        .as_ref()
        .map(|t| t.expose_secret())
        .filter(|t| !t.is_empty())
    else {
        return Err(AppError::not_found("page"));
    };
    if !authorised(&req, token) {
        return Err(AppError::unauthorized(
            "unauthorized",
            "send the metrics token as a bearer token",
        ));
    }
    let pool_state = state.pool.state();
    let (pending, oldest) = state
        .db(|conn| {
            let pending: i64 = outbox_messages::table
                .filter(outbox_messages::status.eq("pending"))
                .count()
                .get_result(conn)?;
            let oldest: Option<chrono::NaiveDateTime> = outbox_messages::table
                .filter(outbox_messages::status.eq("pending"))
                .select(diesel::dsl::min(outbox_messages::created_at))
                .first(conn)?;
            Ok((pending, oldest))
        })
        .await?;
    let m = &*METRICS;
    m.pool_connections.set(i64::from(pool_state.connections));
    m.pool_idle.set(i64::from(pool_state.idle_connections));
    m.pool_waiting
        .set(WAITING.load(std::sync::atomic::Ordering::Relaxed));
    m.outbox_pending.set(pending);
    m.outbox_oldest.set(
        oldest
            .map(|t| (Utc::now().naive_utc() - t).num_seconds().max(0))
            .unwrap_or(0),
    );
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&m.registry.gather(), &mut body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body))
}
