//! The booking load tool: starts madoguchi (release build recommended) on a
//! fresh database, sets up an organisation, sessions and residents, then
//! runs the three loads of docs/benchmarks.md and prints bookings/s,
//! p50/p99/max and the invariant check of each.
//!
//! ```sh
//! cargo run --release --example load -- sqlite
//! cargo run --release --example load -- postgres            # postgres://postgres@127.0.0.1:5432
//! cargo run --release --example load -- postgres 16 10 1000 # clients, seconds, burst size
//! cargo build --release && cargo run --release --example load -- postgres 16 10 1000 --wrk
//! ```
//!
//! With `--wrk` the server is the release binary in its own process (its
//! memory is its own), the sustained loads and the availability list come
//! from `wrk` (2 threads, as in the issue; `apt-get install wrk`), and the
//! burst from this process.
//!
//! PostgreSQL: a scratch database `madoguchi_load_<random>` is created on
//! the server of `MADOGUCHI_TEST_PG_URL` (default as above) and dropped at
//! the end. The server runs in this process, as `cargo run --release`
//! would, with its own worker threads; the clients are tokio tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use madoguchi::auth::Role;
use madoguchi::config::Settings;
use madoguchi::db::{DbConnection, OrganisationId, write_tx};
use madoguchi::error::AppError;
use madoguchi::staff::service::{self, NewStaff};
use secrecy::SecretString;
use serde_json::{Value, json};

const PASSWORD: &str = "load tool admin password";

struct Args {
    db: String,
    clients: usize,
    seconds: u64,
    burst: usize,
    /// The server binary as its own process, loaded by `wrk`.
    wrk: bool,
}

fn args() -> Args {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let wrk = all.iter().any(|a| a == "--wrk");
    let a: Vec<String> = all.into_iter().filter(|a| a != "--wrk").collect();
    Args {
        db: a.first().cloned().unwrap_or_else(|| "sqlite".into()),
        clients: a.get(1).and_then(|v| v.parse().ok()).unwrap_or(16),
        seconds: a.get(2).and_then(|v| v.parse().ok()).unwrap_or(10),
        burst: a.get(3).and_then(|v| v.parse().ok()).unwrap_or(1000),
        wrk,
    }
}

fn pg_server() -> String {
    std::env::var("MADOGUCHI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh database: (url, what to drop at the end).
fn database(kind: &str, dir: &std::path::Path) -> (String, Option<String>) {
    if kind == "postgres" {
        let name = format!("madoguchi_load_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&format!("{}/postgres", pg_server()))
            .expect("postgres");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .expect("create database");
        (format!("{}/{name}", pg_server()), Some(name))
    } else {
        (dir.join("load.db").to_string_lossy().into_owned(), None)
    }
}

fn seed(pool: &madoguchi::db::Pool, residents: usize) -> (OrganisationId, Vec<String>) {
    let mut conn = pool.get().expect("connection");
    let new = NewStaff::parse(
        "admin@load.example",
        "Admin",
        Role::Admin,
        None,
        &SecretString::from(PASSWORD),
    )
    .expect("admin");
    let hash = madoguchi::auth::password::hash(&new.password).expect("hash");
    let (org, admin) = write_tx(&mut conn, |conn: &mut DbConnection| {
        let org = madoguchi::organisations::queries::insert(conn, "負荷試験")?;
        let admin = service::create(conn, org.id, None, &new, &hash, false)?;
        Ok::<_, AppError>((org.id, admin.id))
    })
    .expect("organisation");
    // Residents straight through the service, in batches.
    let mut ids = Vec::with_capacity(residents);
    for chunk in (0..residents).collect::<Vec<_>>().chunks(2000) {
        let made = write_tx(&mut conn, |conn: &mut DbConnection| {
            let mut made = Vec::new();
            for i in chunk {
                let changes = madoguchi::residents::types::ResidentInput {
                    family_name: Some("負荷".into()),
                    given_name: Some(format!("太郎{i}")),
                    family_name_kana: Some("ふか".into()),
                    given_name_kana: Some("たろう".into()),
                    ..Default::default()
                }
                .parse(true)?;
                let r = madoguchi::residents::service::create(conn, org, admin, changes, true)?;
                made.push(r.id.to_string());
            }
            Ok::<_, AppError>(made)
        })
        .expect("residents");
        ids.extend(made);
    }
    (org, ids)
}

struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn session(&self, capacity: i64, course: &str, venue: &str, day: i64) -> String {
        let date = chrono::Utc::now().date_naive() + chrono::Duration::days(day);
        let (status, s) = self
            .post(
                "/api/v1/sessions",
                &json!({"course_id": course, "venue_id": venue, "date": date, "start_time": "14:00",
                        "capacity": capacity, "booking_opens_days_before": 366}),
            )
            .await;
        assert_eq!(status, 201, "{s}");
        s["id"].as_str().unwrap().to_owned()
    }
}

struct Outcome {
    done: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The server under load: in this process, or the release binary as its
/// own process (`--wrk`), so that its memory is its own.
enum Server {
    InProcess {
        port: u16,
    },
    Child {
        port: u16,
        child: std::process::Child,
    },
}

impl Server {
    fn child(settings: &Settings) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let binary = std::env::var("MADOGUCHI_BIN").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/madoguchi").into()
        });
        let child = std::process::Command::new(&binary)
            .arg("serve")
            .env("DATABASE_URL", &settings.database.url)
            .env("MADOGUCHI_BIND", format!("127.0.0.1:{port}"))
            .env("MADOGUCHI_BOOTSTRAP__ENABLED", "false")
            .env("MADOGUCHI_JOBS__ENABLED", "false")
            .env("MADOGUCHI_MAIL__FILE_DIR", &settings.mail.file_dir)
            .env("RUST_LOG", "warn")
            .spawn()
            .unwrap_or_else(|e| panic!("{binary}: {e} (cargo build --release first)"));
        Server::Child { port, child }
    }

    fn port(&self) -> u16 {
        match self {
            Server::InProcess { port } | Server::Child { port, .. } => *port,
        }
    }

    fn whose(&self) -> &'static str {
        match self {
            Server::InProcess { .. } => "server and clients in one process",
            Server::Child { .. } => "the server process alone",
        }
    }

    fn rss_mb(&self) -> u64 {
        match self {
            Server::InProcess { .. } => rss_mb_of("self"),
            Server::Child { child, .. } => rss_mb_of(&child.id().to_string()),
        }
    }

    async fn wait_ready(&self, base: &str) {
        for _ in 0..300 {
            if let Ok(r) = reqwest::get(format!("{base}/health/ready")).await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not become ready");
    }

    fn stop(self) {
        if let Server::Child { mut child, .. } = self {
            // SAFETY: kill only sends a signal to our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }
}

/// Runs wrk (2 threads) with these arguments; its output.
fn wrk(args: &[&str]) -> String {
    let out = std::process::Command::new("wrk")
        .args(["-t2", "--latency"])
        .args(args)
        .output()
        .expect("wrk (apt-get install wrk)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Residents set up per second of each sustained load (each booking a
/// distinct resident); more than either database books in a second here.
const RESIDENTS_PER_SECOND: usize = 10_000;

fn print_wrk(out: &str) {
    for line in out.lines() {
        let t = line.trim();
        if t.starts_with("Requests/sec")
            || t.starts_with("50%")
            || t.starts_with("99%")
            || t.starts_with("Non-2xx")
            || t.starts_with("Socket errors")
            || t.contains("requests in")
        {
            println!("  wrk: {t}");
        }
    }
}

/// `clients` wrk connections post bookings of distinct residents into
/// `sessions` (round robin) for the set seconds; bookings/s counted from
/// the database.
#[allow(clippy::too_many_arguments)]
fn run_wrk(
    api: &Api,
    pool: &madoguchi::db::Pool,
    name: &str,
    sessions: &[String],
    residents: &[String],
    next: &AtomicUsize,
    a: &Args,
    dir: &std::path::Path,
) {
    let share = RESIDENTS_PER_SECOND * a.seconds as usize;
    let first = next.fetch_add(share, Ordering::Relaxed);
    let mine = &residents[first..first + share];
    let list = |v: &[String]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let script = format!(
        r#"local token = "{token}"
local sessions = {{{sessions}}}
local residents = {{{residents}}}
local counter = 0
function setup(thread)
  thread:set("first", counter)
  counter = counter + 1
end
function init(args)
  k = first
  stride = tonumber(args[1])
  headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}}
end
function request()
  local r = residents[k + 1]
  local s = sessions[(k % #sessions) + 1]
  k = k + stride
  if r == nil then return wrk.format("GET", "/health/live") end
  return wrk.format("POST", "/api/v1/sessions/" .. s .. "/bookings", headers,
    '{{"resident_id":"' .. r .. '","channel":"phone"}}')
end
"#,
        token = api.token,
        sessions = list(sessions),
        residents = list(mine),
    );
    let path = dir.join("book.lua");
    std::fs::write(&path, script).unwrap();
    let before = bookings_in(pool, sessions);
    let t0 = Instant::now();
    let out = wrk(&[
        &format!("-c{}", a.clients),
        &format!("-d{}s", a.seconds),
        "-s",
        path.to_str().unwrap(),
        &api.base,
        "--",
        "2",
    ]);
    let elapsed = t0.elapsed();
    let made = bookings_in(pool, sessions) - before;
    println!(
        "{name}: {made} bookings in {:.1} s = {:.0} bookings/s (counted in the database)",
        elapsed.as_secs_f64(),
        made as f64 / elapsed.as_secs_f64()
    );
    print_wrk(&out);
    assert!(
        made < share as i64 * 9 / 10,
        "the residents (nearly) ran out: raise RESIDENTS_PER_SECOND"
    );
}

fn bookings_in(pool: &madoguchi::db::Pool, sessions: &[String]) -> i64 {
    use madoguchi::db::schema::bookings;
    let mut conn = pool.get().unwrap();
    bookings::table
        .filter(bookings::session_id.eq_any(sessions))
        .count()
        .get_result(&mut conn)
        .unwrap()
}

/// A process's resident memory, MB (`self`: server and load clients).
fn rss_mb_of(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn report(name: &str, mut o: Outcome) {
    o.latencies.sort();
    println!(
        "{name}: {} bookings in {:.1} s = {:.0} bookings/s, p50 {} ms, p99 {} ms, max {} ms, errors {}",
        o.done,
        o.elapsed.as_secs_f64(),
        o.done as f64 / o.elapsed.as_secs_f64(),
        percentile(&o.latencies, 0.5).as_millis(),
        percentile(&o.latencies, 0.99).as_millis(),
        o.latencies.last().copied().unwrap_or_default().as_millis(),
        o.errors
    );
}

/// One sustained booking load into `sessions` (wrk or in-process clients),
/// reported, then the invariant checked.
#[allow(clippy::too_many_arguments)]
async fn bookings_load(
    api: &Arc<Api>,
    pool: &madoguchi::db::Pool,
    name: &str,
    sessions: &[String],
    residents: &Arc<Vec<String>>,
    next: &Arc<AtomicUsize>,
    a: &Args,
    dir: &std::path::Path,
) {
    if a.wrk {
        run_wrk(api, pool, name, sessions, residents, next, a, dir);
    } else {
        let o = sustained(
            api.clone(),
            residents.clone(),
            next.clone(),
            Arc::new(sessions.to_vec()),
            a.clients,
            a.seconds,
        )
        .await;
        report(name, o);
    }
    settle(pool, sessions);
    println!("  invariant: {:?}", check(pool, sessions));
}

/// Waits until the requests still in flight when the load stopped (wrk
/// closes its connections, the server finishes what it took) have
/// committed, so the invariant is checked on a quiet database: its
/// counter and its rows are read by two statements.
fn settle(pool: &madoguchi::db::Pool, sessions: &[String]) {
    let mut last = bookings_in(pool, sessions);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = bookings_in(pool, sessions);
        if now == last {
            return;
        }
        last = now;
    }
}

/// `clients` tasks book distinct residents into `sessions` (round robin)
/// for `seconds`.
async fn sustained(
    api: Arc<Api>,
    residents: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    sessions: Arc<Vec<String>>,
    clients: usize,
    seconds: u64,
) -> Outcome {
    let stop = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (api, residents, next, sessions) = (
            api.clone(),
            residents.clone(),
            next.clone(),
            sessions.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0);
            while Instant::now() < stop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(resident) = residents.get(i) else {
                    break;
                };
                let session = &sessions[i % sessions.len()];
                let t = Instant::now();
                let (status, _) = api
                    .post(
                        &format!("/api/v1/sessions/{session}/bookings"),
                        &json!({"resident_id": resident, "channel": "phone"}),
                    )
                    .await;
                lat.push(t.elapsed());
                if status != 201 {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut o = Outcome {
        done: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for t in tasks {
        let (lat, errors) = t.await.unwrap();
        o.done += lat.len() - errors;
        o.errors += errors;
        o.latencies.extend(lat);
    }
    o.elapsed = started.elapsed();
    o
}

/// Seats never exceed capacity, counters match the rows, waitlist
/// positions run 1..n without gaps, nobody holds two active bookings.
fn check(pool: &madoguchi::db::Pool, sessions: &[String]) -> Result<(), String> {
    use madoguchi::db::schema::{bookings, sessions as s};
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    for id in sessions {
        let (capacity, taken, waiting): (i32, i32, i32) = s::table
            .filter(s::id.eq(id))
            .select((s::capacity, s::seats_taken, s::waitlist_count))
            .first(&mut conn)
            .map_err(|e| e.to_string())?;
        let rows: Vec<(String, String)> = bookings::table
            .filter(bookings::session_id.eq(id))
            .select((bookings::status, bookings::resident_id))
            .load(&mut conn)
            .map_err(|e| e.to_string())?;
        let confirmed = rows.iter().filter(|(st, _)| st == "confirmed").count() as i32;
        let waitlisted = rows.iter().filter(|(st, _)| st == "waitlisted").count() as i32;
        if taken > capacity || confirmed != taken || waitlisted != waiting {
            return Err(format!(
                "session {id}: capacity {capacity}, counter {taken}/{waiting}, rows {confirmed}/{waitlisted}"
            ));
        }
        let mut who: Vec<&String> = rows.iter().map(|(_, r)| r).collect();
        let n = who.len();
        who.sort();
        who.dedup();
        if who.len() != n {
            return Err(format!("session {id}: a resident booked twice"));
        }
    }
    Ok(())
}

fn main() {
    // As the server binary does, before any thread starts.
    madoguchi::startup::tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(load());
}

async fn load() {
    let a = args();
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, drop_db) = database(&a.db, dir.path());
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        ..Default::default()
    };
    settings.database.url = url;
    settings.bootstrap.enabled = false;
    settings.jobs.enabled = false;
    settings.log.filter = "warn".into();
    settings.mail.file_dir = dir.path().join("mail").to_string_lossy().into_owned();
    let pool = madoguchi::db::connect_pool_from(&settings.database).expect("pool");
    madoguchi::db::run_migrations(&mut pool.get().unwrap()).expect("migrations");
    let expected = RESIDENTS_PER_SECOND * a.seconds as usize * 2 + a.burst + 100;
    println!("setting up {expected} residents on {} …", a.db);
    let (_, residents) = seed(&pool, expected);
    let server = if a.wrk {
        Server::child(&settings)
    } else {
        let app = madoguchi::startup::Application::build(settings.clone())
            .await
            .expect("app");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        Server::InProcess { port }
    };
    let base = format!("http://127.0.0.1:{}", server.port());
    server.wait_ready(&base).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    println!(
        "resident memory before the loads ({}): {} MB",
        server.whose(),
        server.rss_mb()
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.clients * 2)
        .build()
        .unwrap();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "admin@load.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api = Arc::new(Api {
        base,
        token: login["access_token"].as_str().expect("token").to_owned(),
        client,
    });
    let (_, venue) = api
        .post(
            "/api/v1/venues",
            &json!({"name": "負荷会場", "default_capacity": 20}),
        )
        .await;
    let (_, course) = api
        .post(
            "/api/v1/courses",
            &json!({"title": "負荷講座", "kind": "class", "default_fee_yen": 0, "default_length_minutes": 120}),
        )
        .await;
    let (venue, course) = (
        venue["id"].as_str().unwrap().to_owned(),
        course["id"].as_str().unwrap().to_owned(),
    );
    let residents = Arc::new(residents);
    let next = Arc::new(AtomicUsize::new(0));

    // 1. One hot session (room for everyone: every booking takes a seat).
    let hot = vec![api.session(10_000, &course, &venue, 3).await];
    bookings_load(
        &api,
        &pool,
        "one hot session",
        &hot,
        &residents,
        &next,
        &a,
        dir.path(),
    )
    .await;

    // 2. Spread over 100 sessions.
    let mut spread = Vec::new();
    for i in 0..100 {
        spread.push(api.session(10_000, &course, &venue, 4 + i % 30).await);
    }
    bookings_load(
        &api,
        &pool,
        "spread over 100 sessions",
        &spread,
        &residents,
        &next,
        &a,
        dir.path(),
    )
    .await;

    // 3. `burst` simultaneous attempts on a 20-seat session.
    let burst = api.session(20, &course, &venue, 40).await;
    let start = next.fetch_add(a.burst, Ordering::Relaxed);
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..a.burst)
        .map(|k| {
            let (api, resident, burst) = (api.clone(), residents[start + k].clone(), burst.clone());
            tokio::spawn(async move {
                let t = Instant::now();
                let (status, body) = api
                    .post(
                        &format!("/api/v1/sessions/{burst}/bookings"),
                        &json!({"resident_id": resident, "channel": "phone"}),
                    )
                    .await;
                (
                    t.elapsed(),
                    status,
                    body["status"].as_str().unwrap_or("").to_owned(),
                )
            })
        })
        .collect();
    let mut o = Outcome {
        done: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    let (mut confirmed, mut waitlisted) = (0, 0);
    for t in tasks {
        let (lat, status, st) = t.await.unwrap();
        o.latencies.push(lat);
        if status == 201 {
            o.done += 1;
        } else {
            o.errors += 1;
        }
        match st.as_str() {
            "confirmed" => confirmed += 1,
            "waitlisted" => waitlisted += 1,
            _ => {}
        }
    }
    o.elapsed = t0.elapsed();
    report(&format!("{} simultaneous on 20 seats", a.burst), o);
    println!(
        "  answers: {confirmed} confirmed, {waitlisted} waitlisted; invariant: {:?}",
        check(&pool, &[burst])
    );
    if a.wrk {
        // The availability list, 50 per page.
        let out = wrk(&[
            &format!("-c{}", a.clients),
            &format!("-d{}s", a.seconds),
            "-H",
            &format!("Authorization: Bearer {}", api.token),
            &format!("{}/api/v1/sessions?limit=50", api.base),
        ]);
        println!("availability list (GET /api/v1/sessions?limit=50):");
        print_wrk(&out);
    }
    println!(
        "resident memory after the loads ({}): {} MB",
        server.whose(),
        server.rss_mb()
    );
    // At rest: what the server keeps once the load is over (it hands freed
    // memory back every 30 s).
    tokio::time::sleep(Duration::from_secs(35)).await;
    println!(
        "resident memory 35 s after the loads ({}): {} MB",
        server.whose(),
        server.rss_mb()
    );
    server.stop();

    if let Some(name) = drop_db {
        drop(pool);
        if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{}/postgres", pg_server()))
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}
