use crate::helpers::{Db, assert_problem, db_tests, spawn_app};

async fn liveness_answers_ok(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

async fn readiness_answers_ok_while_the_database_answers(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn every_answer_carries_a_request_id(db: Db) {
    let app = spawn_app(db).await;
    let mut seen = std::collections::HashSet::new();
    for path in ["/health/live", "/api/v1/me", "/no/such/route"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let id = res
            .headers()
            .get("x-request-id")
            .expect("x-request-id header");
        let id: uuid::Uuid = id.to_str().unwrap().parse().expect("a uuid");
        assert!(seen.insert(id), "request ids are unique");
    }
}

db_tests!(
    metrics_answer_the_scraper_in_prometheus_format_and_name_no_one,
    liveness_answers_ok,
    readiness_answers_ok_while_the_database_answers,
    every_answer_carries_a_request_id,
);

/// PostgreSQL only: a database that goes away makes the instance unready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_answers_503_when_postgres_goes_away() {
    if crate::helpers::postgres_skipped() {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let name = app.database.url.rsplit('/').next().unwrap().to_owned();
    {
        use diesel::prelude::*;
        let url = format!("{}/postgres", crate::helpers::postgres_server_url());
        let mut admin = PgConnection::establish(&url).unwrap();
        diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
    }
    let res = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 503, "database_unavailable").await;
    let res = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the process is still alive");
}

/// A TCP relay to PostgreSQL that can stop passing bytes in both directions
/// while keeping every connection open: to the server it looks like a
/// network that silently drops everything, then comes back.
struct StallingProxy {
    port: u16,
    stalled: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl StallingProxy {
    async fn start(target: String) -> StallingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stalled = std::sync::Arc::new(tokio::sync::watch::channel(false).0);
        let tx = stalled.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(relay(cr, sw, tx.subscribe()));
                tokio::spawn(relay(sr, cw, tx.subscribe()));
            }
        });
        StallingProxy { port, stalled }
    }

    fn stall(&self, on: bool) {
        self.stalled.send_replace(on);
    }
}

async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut stalled: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // While stalled, hold what was read: nothing reaches the other side.
        if stalled.wait_for(|s| !*s).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// PostgreSQL only: a database that stops answering (packets silently
/// dropped) turns readiness 503 and fails reads, writes and logins with 503
/// within seconds instead of hanging; when it answers again, so does the
/// server, by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_stops_answering_fails_requests_fast_with_503() {
    if crate::helpers::postgres_skipped() {
        return;
    }
    let server = crate::helpers::postgres_server_url();
    let host_port = server
        .rsplit('@')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let proxy = StallingProxy::start(host_port.clone()).await;
    let proxy_port = proxy.port;
    let app = crate::helpers::spawn_app_with(Db::Postgres, move |s| {
        s.database.url = s
            .database
            .url
            .replace(&host_port, &format!("127.0.0.1:{proxy_port}"));
    })
    .await;
    assert_eq!(app.get("/health/ready", "").await.status(), 200);
    app.get_ok("/api/v1/venues", &app.admin_token).await;

    proxy.stall(true);
    let started = std::time::Instant::now();
    let ready = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_problem(ready, 503, "database_unavailable").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    let venue = serde_json::json!({"name": "西公民館", "default_capacity": 10});
    let started = std::time::Instant::now();
    let (read, write, login) = tokio::join!(
        app.get("/api/v1/venues", &app.admin_token),
        app.post("/api/v1/venues", &app.admin_token, &venue),
        app.login(&app.admin_email, crate::helpers::ADMIN_PASSWORD),
    );
    for res in [read, write, login] {
        assert_eq!(res.status(), 503, "{:?}", res.text().await);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "503 within seconds, not minutes: {:?}",
        started.elapsed()
    );

    proxy.stall(false);
    let mut ready = false;
    for _ in 0..40 {
        if app.get("/health/ready", "").await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ready, "readiness recovers by itself");
    app.get_ok("/api/v1/venues", &app.admin_token).await;
    app.login_ok(&app.admin_email, crate::helpers::ADMIN_PASSWORD)
        .await;
}

/// PostgreSQL only: connections are not pinged on every check-out, so when
/// the server drops them (a restart, a failover) each dead one fails at
/// most one request with 503 and is then dropped from the pool; the
/// instance recovers by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_connections_fail_once_and_leave_the_pool() {
    if crate::helpers::postgres_skipped() {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    // Open several of the server's connections at once.
    let requests: Vec<_> = (0..8)
        .map(|_| app.get("/api/v1/staff?limit=50", &app.admin_token))
        .collect();
    for res in futures::future::join_all(requests).await {
        assert_eq!(res.status(), 200);
    }
    let name = app.database.url.rsplit('/').next().unwrap().to_owned();
    {
        use diesel::prelude::*;
        let url = format!("{}/postgres", crate::helpers::postgres_server_url());
        let mut admin = PgConnection::establish(&url).unwrap();
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .execute(&mut admin)
        .unwrap();
    }
    let mut failures = 0;
    let mut ok = 0;
    for _ in 0..20 {
        let res = app.get("/api/v1/staff?limit=50", &app.admin_token).await;
        if res.status() == 200 {
            ok += 1;
        } else {
            assert_problem(res, 503, "database_unavailable").await;
            failures += 1;
        }
    }
    eprintln!("dead connections: {failures} failed, {ok} answered");
    assert!(
        failures <= 16,
        "each dead connection fails at most twice (caller and work): {failures}"
    );
    assert!(ok >= 4, "the instance recovered: {ok} of 20 answered");
    // And from then on every request answers.
    for _ in 0..10 {
        let res = app.get("/api/v1/staff?limit=50", &app.admin_token).await;
        assert_eq!(res.status(), 200);
    }
}

async fn metrics_answer_the_scraper_in_prometheus_format_and_name_no_one(db: Db) {
    let app = crate::helpers::spawn_app_with(db, |s| {
        s.metrics.token = Some("scrape-token-for-tests".into())
    })
    .await;
    let s = app.session_ok(5, serde_json::json!({})).await;
    let r = app.resident_ok("山田", "花子", "やまだ").await;
    let booked = app.book_ok(&s, &r).await;
    let anonymous = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_problem(anonymous, 401, "unauthorized").await;
    let wrong = app.get("/metrics", "another-token").await;
    assert_eq!(wrong.status(), 401);
    let res = app.get("/metrics", "scrape-token-for-tests").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    for expected in [
        "madoguchi_http_requests_total{method=\"POST\",route=\"/api/v1/sessions/{id}/bookings\",status=\"201\"}",
        "madoguchi_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/sessions/{id}/bookings\",le=\"0.1\"}",
        "madoguchi_created_total{what=\"booking\"}",
        "madoguchi_pool_connections ",
        "madoguchi_pool_idle_connections ",
        "madoguchi_pool_waiting ",
        "madoguchi_outbox_pending ",
        "madoguchi_outbox_oldest_pending_seconds ",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    for personal in [
        "山田",
        s.as_str(),
        r.as_str(),
        booked["reference"].as_str().unwrap(),
        booked["id"].as_str().unwrap(),
    ] {
        assert!(!text.contains(personal), "{personal} in the metrics");
    }
    // Without a token configured there is no /metrics.
    let plain = spawn_app(db).await;
    assert_eq!(plain.get("/metrics", "anything").await.status(), 404);
}
