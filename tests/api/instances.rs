//! Three instances of the real binary on one PostgreSQL database, driven
//! round-robin: every invariant holds across instances, and each background
//! job's work is done exactly once.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use madoguchi::db::schema::{series, sessions, ticket_events, tickets};
use serde_json::{Value, json};

use crate::cli::Server;
use crate::helpers::{ADMIN_PASSWORD, Db, TestDatabase, seed_organisation};

struct Cluster {
    servers: Vec<Server>,
    client: reqwest::Client,
    token: String,
}

impl Cluster {
    fn url(&self, i: usize, path: &str) -> String {
        format!("{}{}", self.servers[i % self.servers.len()].address, path)
    }

    async fn post(&self, i: usize, path: impl AsRef<str>, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(i, path.as_ref()))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn post_ok(&self, i: usize, path: &str, body: &Value) -> Value {
        let res = self.post(i, path, body.clone()).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    async fn get_ok(&self, i: usize, path: &str) -> Value {
        let res = self
            .client
            .get(self.url(i, path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_database_keep_every_invariant_and_run_each_job_once() {
    if crate::helpers::postgres_skipped() {
        return;
    }
    let database = TestDatabase::create(Db::Postgres);
    let env = [
        ("MADOGUCHI_BOOTSTRAP__ENABLED", "false"),
        ("MADOGUCHI_SCHEDULE__EXTEND_INTERVAL_SECS", "1"),
        ("MADOGUCHI_TICKETS__AUTO_CLOSE_INTERVAL_SECS", "1"),
        ("MADOGUCHI_SCHEDULE__HORIZON_DAYS", "60"),
        ("MADOGUCHI_HTTP__WORKERS", "2"),
        ("MADOGUCHI_DATABASE__POOL_SIZE", "6"),
        ("RUST_LOG", "warn"),
    ];
    let first = Server::start_with(&database.url, &env);
    first.wait_ready().await; // the first one applies the migrations
    let mut servers = vec![first];
    for _ in 0..2 {
        servers.push(Server::start_with(&database.url, &env));
    }
    for s in &servers[1..] {
        s.wait_ready().await;
    }
    let pool =
        madoguchi::db::connect_pool(&database.url, 4, Duration::from_secs(10), 10_000).unwrap();
    let (_, admin) = seed_organisation(&pool, "Kita", "admin@kita.example");
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{}/api/v1/auth/login", servers[1].address))
        .json(&json!({"email": admin, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = Cluster {
        servers,
        client,
        token: login["access_token"].as_str().unwrap().to_owned(),
    };

    let venue = c
        .post_ok(
            0,
            "/api/v1/venues",
            &json!({"name": "北公民館", "default_capacity": 5}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let course = c
        .post_ok(1, "/api/v1/courses", &json!({"title": "スマホ教室", "kind": "class", "default_fee_yen": 100, "default_length_minutes": 120}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let starts_on = Utc::now().date_naive() + chrono::Duration::days(3);
    let created = c
        .post_ok(2, "/api/v1/series", &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY", "starts_on": starts_on, "start_time": "14:00", "capacity": 5}))
        .await;
    let series_id = created["series"]["id"].as_str().unwrap().to_owned();
    let stored = |pool: &madoguchi::db::Pool| -> i64 {
        let mut conn = pool.get().unwrap();
        sessions::table
            .filter(sessions::series_id.eq(&series_id))
            .count()
            .get_result(&mut *conn)
            .unwrap()
    };
    let expected_sessions = stored(&pool);
    assert!(expected_sessions >= 8, "{expected_sessions}");

    // The extending job: forget the stored future, let three instances race.
    {
        let mut conn = pool.get().unwrap();
        let keep = starts_on + chrono::Duration::days(7);
        let later: Vec<String> = sessions::table
            .filter(sessions::series_id.eq(&series_id))
            .filter(sessions::starts_at.gt(keep.and_hms_opt(23, 59, 0).unwrap()))
            .select(sessions::id)
            .load(&mut *conn)
            .unwrap();
        diesel::delete(sessions::table.filter(sessions::id.eq_any(&later)))
            .execute(&mut *conn)
            .unwrap();
        diesel::update(series::table.filter(series::id.eq(&series_id)))
            .set(series::materialized_until.eq(keep))
            .execute(&mut *conn)
            .unwrap();
    }
    let mut extended = false;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if stored(&pool) >= expected_sessions {
            extended = true;
            break;
        }
    }
    assert!(extended, "the job stored the sessions again");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(stored(&pool), expected_sessions, "each session stored once");

    // Bookings round-robin: five seats, thirty residents.
    let session = c.get_ok(0, "/api/v1/sessions").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut residents = Vec::new();
    for i in 0..30 {
        let r = c
            .post_ok(i, "/api/v1/residents", &json!({"family_name": "伊藤", "given_name": format!("{i}"), "family_name_kana": "いとう", "given_name_kana": "はな", "confirm_new_person": true}))
            .await;
        residents.push(r["id"].as_str().unwrap().to_owned());
    }
    let path = format!("/api/v1/sessions/{session}/bookings");
    let answers = futures::future::join_all(residents.iter().enumerate().map(|(i, r)| {
        c.post(
            i,
            path.clone(),
            json!({"resident_id": r, "channel": "phone"}),
        )
    }))
    .await;
    let mut confirmed = Vec::new();
    let mut positions = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 201);
        let b: Value = res.json().await.unwrap();
        match b["status"].as_str().unwrap() {
            "confirmed" => confirmed.push(b["id"].as_str().unwrap().to_owned()),
            _ => positions.push(b["waitlist_position"].as_i64().unwrap()),
        }
    }
    positions.sort();
    assert_eq!(confirmed.len(), 5);
    assert_eq!(positions, (1..=25).collect::<Vec<i64>>());

    // Cancellations on different instances promote exactly as many.
    let cancels = futures::future::join_all(confirmed[..2].iter().enumerate().map(|(i, b)| {
        c.post(
            i + 1,
            format!("/api/v1/bookings/{b}/cancel"),
            json!({"reason": "体調不良"}),
        )
    }))
    .await;
    for res in cancels {
        assert_eq!(res.status(), 200);
    }
    let s = c.get_ok(2, &format!("/api/v1/sessions/{session}")).await;
    assert_eq!(s["seats_taken"], 5, "{s}");
    assert_eq!(s["waitlist_count"], 23, "{s}");

    // Payments: 100 yen due, ten parallel 50-yen payments over three instances.
    let booking = &confirmed[2];
    let answers = futures::future::join_all((0..10).map(|i| {
        c.post(
            i,
            "/api/v1/payments",
            json!({"booking_id": booking, "amount": 50, "method": "cash"}),
        )
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        2,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );

    // Walk-in queue numbers stay unique across instances.
    let walk_in = json!({"channel": "face_to_face", "category": "smartphone", "subject": "LINE", "venue_id": venue});
    let answers =
        futures::future::join_all((0..15).map(|i| c.post(i, "/api/v1/tickets", walk_in.clone())))
            .await;
    let mut numbers = Vec::new();
    let mut ids = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 201);
        let t: Value = res.json().await.unwrap();
        numbers.push(t["queue_number"].as_i64().unwrap());
        ids.push(t["id"].as_str().unwrap().to_owned());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=15).collect::<Vec<i64>>());

    // The closing job: a ticket resolved long ago is closed once.
    let answered = c
        .post_ok(0, "/api/v1/tickets", &json!({"channel": "phone", "category": "internet_email", "subject": "写真の添付", "resolved_with": "クリップのマークから"}))
        .await;
    let ticket = answered["id"].as_str().unwrap();
    {
        let mut conn = pool.get().unwrap();
        diesel::update(tickets::table.filter(tickets::id.eq(ticket)))
            .set(tickets::resolved_at.eq(Some(Utc::now().naive_utc() - chrono::Duration::days(30))))
            .execute(&mut *conn)
            .unwrap();
    }
    let mut closed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if c.get_ok(1, &format!("/api/v1/tickets/{ticket}")).await["status"] == "closed" {
            closed = true;
            break;
        }
    }
    assert!(closed, "the job closed the ticket");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut conn = pool.get().unwrap();
    let closings: i64 = ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket))
        .filter(ticket_events::to_status.eq("closed"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(closings, 1, "closed once, by one instance");
}
