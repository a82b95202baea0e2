//! The job that extends series, and the query budget of availability.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, Utc};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use madoguchi::config::ScheduleSettings;
use madoguchi::db::schema::{series, sessions};
use madoguchi::schedule::job;
use madoguchi::schedule::queries as schedule;
use madoguchi::schedule::series_routes::org_context;
use madoguchi::schedule::session_routes::answers;
use madoguchi::schedule::types::SessionFilter;
use serde_json::json;

use crate::helpers::{Db, TestApp, db_tests, spawn_app_with};

fn job_settings(horizon_days: u32) -> ScheduleSettings {
    ScheduleSettings {
        horizon_days,
        extend_interval_secs: 3600,
        max_sessions_per_series: 400,
        list_cache_ms: 0,
    }
}

fn count_sessions(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    sessions::table.count().get_result(&mut *conn).unwrap()
}

async fn daily_series(app: &TestApp) -> String {
    let (venue, course) = app.venue_and_course().await;
    let saved = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=DAILY", "starts_on": Utc::now().date_naive() + Duration::days(2),
                    "start_time": "10:00", "skip_public_holidays": false}),
            201,
        )
        .await;
    saved["series"]["id"].as_str().unwrap().to_owned()
}

async fn the_job_extends_series_to_a_longer_horizon_once(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 10).await;
    daily_series(&app).await;
    let before = count_sessions(&app);
    assert!(
        (8..=10).contains(&before),
        "{before} sessions within 10 days"
    );
    let mut conn = app.pool.get().unwrap();
    let added = job::extend_all(
        &mut conn,
        &job_settings(20),
        crate::helpers::schedule_hooks(),
        "instance-a",
    )
    .unwrap()
    .expect("lease taken");
    assert_eq!(added as i64, 10, "ten more days");
    assert_eq!(count_sessions(&app), before + 10);
    let again = job::extend_all(
        &mut conn,
        &job_settings(20),
        crate::helpers::schedule_hooks(),
        "instance-a",
    )
    .unwrap()
    .expect("lease free again");
    assert_eq!(again, 0, "nothing left to do");
    let extended: chrono::NaiveDate = series::table
        .select(series::materialized_until)
        .first(&mut *conn)
        .unwrap();
    assert!(extended >= Utc::now().date_naive() + Duration::days(19));
}

async fn a_held_lease_keeps_other_instances_out(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 10).await;
    daily_series(&app).await;
    let mut conn = app.pool.get().unwrap();
    let until = Utc::now().naive_utc() + Duration::minutes(5);
    assert!(madoguchi::jobs::lease::claim(&mut conn, job::LEASE, "instance-a", until).unwrap());
    assert!(!madoguchi::jobs::lease::claim(&mut conn, job::LEASE, "instance-b", until).unwrap());
    assert_eq!(
        job::extend_all(
            &mut conn,
            &job_settings(20),
            crate::helpers::schedule_hooks(),
            "instance-b"
        )
        .unwrap(),
        None,
        "b waits"
    );
    madoguchi::jobs::lease::release(&mut conn, job::LEASE, "instance-a").unwrap();
    assert!(
        job::extend_all(
            &mut conn,
            &job_settings(20),
            crate::helpers::schedule_hooks(),
            "instance-b"
        )
        .unwrap()
        .is_some()
    );
    // An expired lease (a crashed instance) is taken over.
    let past = Utc::now().naive_utc() - Duration::minutes(1);
    assert!(madoguchi::jobs::lease::claim(&mut conn, job::LEASE, "crashed", past).unwrap());
    assert!(
        job::extend_all(
            &mut conn,
            &job_settings(21),
            crate::helpers::schedule_hooks(),
            "instance-c"
        )
        .unwrap()
        .is_some()
    );
}

async fn instances_extending_at_once_never_duplicate_sessions(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 5).await;
    daily_series(&app).await;
    daily_series_again(&app).await;
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let pool = app.pool.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                for _ in 0..5 {
                    job::extend_all(
                        &mut conn,
                        &job_settings(30),
                        crate::helpers::schedule_hooks(),
                        &format!("instance-{i}"),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut conn = app.pool.get().unwrap();
    let total: i64 = sessions::table.count().get_result(&mut *conn).unwrap();
    let distinct: Vec<(Option<String>, Option<chrono::NaiveDate>)> = sessions::table
        .select((sessions::series_id, sessions::occurrence_date))
        .distinct()
        .load(&mut *conn)
        .unwrap();
    assert_eq!(total as usize, distinct.len(), "no occurrence stored twice");
    assert!(
        (56..=60).contains(&total),
        "two daily series over 30 days: {total}"
    );
}

async fn daily_series_again(app: &TestApp) {
    let venue = app
        .post_ok(
            "/api/v1/venues",
            &app.admin_token,
            &json!({"name": "南公民館", "default_capacity": 10}),
            201,
        )
        .await;
    let course = app
        .post_ok("/api/v1/courses", &app.admin_token, &json!({"title": "LINE教室", "kind": "class", "default_fee_yen": 0, "default_length_minutes": 60}), 201)
        .await;
    app.post_ok(
        "/api/v1/series",
        &app.admin_token,
        &json!({"course_id": course["id"], "venue_id": venue["id"], "rrule": "FREQ=DAILY", "starts_on": Utc::now().date_naive() + Duration::days(2),
                "start_time": "15:00", "skip_public_holidays": false}),
        201,
    )
    .await;
}

struct QueryCounter(Arc<AtomicUsize>);

impl Instrumentation for QueryCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn availability_costs_the_same_queries_for_any_page_size(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 60).await;
    let series = daily_series(&app).await;
    let (tanaka, _) = app
        .staff_with_token("tanaka@kita.example", "instructor")
        .await;
    app.patch(
        &format!("/api/v1/series/{series}"),
        &app.admin_token,
        &json!({"instructor_ids": [tanaka["id"]]}),
    )
    .await;
    let state = madoguchi::state::AppState {
        pool: app.pool.clone(),
        settings: Arc::new(crate::helpers::test_settings(&app.database.url)),
        jwt: Arc::new(madoguchi::auth::jwt::JwtKeys::new(
            &madoguchi::config::Settings::default().auth,
        )),
        on_sessions_added: madoguchi::bookings::enrolment::keep_promises,
        on_session_moved: madoguchi::bookings::service::tell_session_moved,
        list_cache: Arc::new(madoguchi::schedule::list_cache::ListCache::new(
            std::time::Duration::ZERO,
        )),
        db_slots: Arc::new(tokio::sync::Semaphore::new(4)),
        booking_groups: Arc::new(madoguchi::bookings::group::Groups::new(
            std::time::Duration::ZERO,
            madoguchi::bookings::group::LANES,
        )),
    };
    let mut counts = Vec::new();
    for limit in [2, 50] {
        let mut conn = app.pool.get().unwrap();
        let counter = Arc::new(AtomicUsize::new(0));
        conn.set_instrumentation(QueryCounter(counter.clone()));
        let ctx = org_context(&mut conn, &state, app.org_id, None).unwrap();
        let rows = schedule::list_sessions(
            &mut conn,
            app.org_id,
            &SessionFilter::default(),
            None,
            None,
            limit,
        )
        .unwrap();
        let page = answers(&mut conn, &ctx, rows).unwrap();
        assert_eq!(page.len() as i64, limit + 1);
        assert!(page.iter().all(|s| s.instructors.len() == 1));
        conn.set_instrumentation(QueryCounter(Arc::new(AtomicUsize::new(0))));
        counts.push(counter.load(Ordering::SeqCst));
    }
    assert_eq!(counts[0], counts[1], "no N+1: {counts:?}");
    assert!(
        counts[0] <= 5,
        "timezone, sessions, instructors, venues' and organisation's hours: {counts:?}"
    );
}

async fn housekeeping_forgets_old_idempotency_keys_and_login_failures(db: Db) {
    use madoguchi::db::schema::{idempotency_keys, login_failures};
    let app = spawn_app_with(db, |_| {}).await;
    app.login(&app.admin_email, "wrong password!").await;
    let mut conn = app.pool.get().unwrap();
    let old = Utc::now().naive_utc() - Duration::days(8);
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::organisation_id.eq(app.org_id.to_string()),
            idempotency_keys::idem_key.eq("old"),
            idempotency_keys::request_hash.eq("x"),
            idempotency_keys::created_at.eq(old),
        ))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(login_failures::table)
        .set(login_failures::failed_at.eq(old))
        .execute(&mut *conn)
        .unwrap();
    // A fresh key and a fresh failure must survive.
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::organisation_id.eq(app.org_id.to_string()),
            idempotency_keys::idem_key.eq("fresh"),
            idempotency_keys::request_hash.eq("y"),
            idempotency_keys::created_at.eq(Utc::now().naive_utc() - Duration::days(6)),
        ))
        .execute(&mut *conn)
        .unwrap();
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
            login_failures::throttle_key.eq("address:192.0.2.1"),
            login_failures::failed_at.eq(Utc::now().naive_utc() - Duration::hours(2)),
        ))
        .execute(&mut *conn)
        .unwrap();
    let (keys, failures) = madoguchi::jobs::housekeeping(&mut conn).unwrap();
    assert_eq!(
        (keys, failures),
        (1, 3),
        "one key; the failure counted per account and client, per account, and per address"
    );
    let left: Vec<String> = idempotency_keys::table
        .select(idempotency_keys::idem_key)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(left, vec!["fresh".to_owned()], "the fresh key survives");
    let failures_left: i64 = login_failures::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(failures_left, 1, "the fresh failure survives");
}

db_tests!(
    the_job_extends_series_to_a_longer_horizon_once,
    a_held_lease_keeps_other_instances_out,
    instances_extending_at_once_never_duplicate_sessions,
    availability_costs_the_same_queries_for_any_page_size,
    housekeeping_forgets_old_idempotency_keys_and_login_failures,
);
