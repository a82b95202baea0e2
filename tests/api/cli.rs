//! The `madoguchi` binary: migrate, admin create, first-start bootstrap,
//! production safety, and what reaches the console.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use madoguchi::startup::Application;
use serde_json::{Value, json};

use crate::helpers::{Db, TestDatabase, db_tests, test_settings};

fn madoguchi(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DATABASE_URL", database_url)
        .env_remove("MADOGUCHI_ENV")
        .env_remove("MADOGUCHI_JWT_SECRET")
        .env_remove("MADOGUCHI_BIND")
        .env("RUST_LOG", "debug");
    cmd
}

/// `madoguchi check` on a database URL with a scratch backup folder: whether
/// it succeeded, and what it said.
fn check_on(url: &str) -> (bool, String) {
    let backups = tempfile::tempdir().unwrap();
    let out = madoguchi(url)
        .arg("check")
        .env("MADOGUCHI_BACKUP__DIR", backups.path())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn admin_create(database_url: &str, org: &str, email: &str, password: &str) -> Output {
    let mut child = madoguchi(database_url)
        .args([
            "admin",
            "create",
            "--org",
            org,
            "--email",
            email,
            "--name",
            "CLI Admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run madoguchi");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

async fn login(address: &str, email: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn admin_create_works_on_a_brand_new_database(db: Db) {
    let database = TestDatabase::create(db);
    let out = admin_create(
        &database.url,
        "Kita",
        "Boss@Kita.example",
        "the boss's long password",
    );
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin boss@kita.example"));
    let out = admin_create(
        &database.url,
        "Kita",
        "deputy@kita.example",
        "the deputy's password",
    );
    assert!(out.status.success());

    let mut settings = test_settings(&database.url);
    settings.bootstrap.enabled = true; // an organisation exists, so no bootstrap
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let mut orgs = Vec::new();
    for (email, password) in [
        ("boss@kita.example", "the boss's long password"),
        ("deputy@kita.example", "the deputy's password"),
    ] {
        let tokens: Value = login(&address, email, password).await.json().await.unwrap();
        let me: Value = client
            .get(format!("{address}/api/v1/me"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], "admin");
        assert_eq!(me["must_change_password"], false);
        orgs.push(me["organisation_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        orgs[0], orgs[1],
        "the second admin joined the existing organisation"
    );
}

async fn admin_create_refuses_a_duplicate_email(db: Db) {
    let database = TestDatabase::create(db);
    assert!(
        admin_create(
            &database.url,
            "Kita",
            "boss@kita.example",
            "the boss's long password"
        )
        .status
        .success()
    );
    let out = admin_create(
        &database.url,
        "Minami",
        "BOSS@kita.example",
        "another long password",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already exists"), "stderr: {stderr}");
}

async fn admin_create_refuses_a_weak_password(db: Db) {
    let database = TestDatabase::create(db);
    let out = admin_create(&database.url, "Kita", "boss@kita.example", "short");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("password: must be at least 12 characters"),
        "stderr: {stderr}"
    );
}

async fn migrate_brings_a_new_database_up_to_date(db: Db) {
    let database = TestDatabase::create(db);
    for _ in 0..2 {
        let out = madoguchi(&database.url).arg("migrate").output().unwrap();
        assert!(
            out.status.success(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

db_tests!(
    sigterm_mid_burst_answers_what_it_took_and_leaves_nothing_half_done,
    admin_create_works_on_a_brand_new_database,
    admin_create_refuses_a_duplicate_email,
    admin_create_refuses_a_weak_password,
    migrate_brings_a_new_database_up_to_date,
    the_first_start_prints_a_one_time_admin_and_logs_no_secrets,
);

#[test]
fn admin_create_takes_no_password_on_the_command_line() {
    let database = TestDatabase::create(Db::Sqlite);
    let out = madoguchi(&database.url)
        .args([
            "admin",
            "create",
            "--org",
            "Kita",
            "--email",
            "a@kita.example",
            "--name",
            "A",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"));
    let out = madoguchi(&database.url)
        .args([
            "admin",
            "create",
            "--org",
            "Kita",
            "--email",
            "a@kita.example",
            "--name",
            "A",
            "--password",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "there is no --password flag");
}

#[test]
fn production_refuses_the_development_or_a_short_secret() {
    let database = TestDatabase::create(Db::Sqlite);
    let out = madoguchi(&database.url)
        .env("MADOGUCHI_ENV", "production")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("development JWT secret"));
    let out = madoguchi(&database.url)
        .env("MADOGUCHI_ENV", "production")
        .env("MADOGUCHI_JWT_SECRET", "too-short")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
}

/// A running `madoguchi serve` whose console output is collected.
pub struct Server {
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
    pub address: String,
}

impl Server {
    fn start(database_url: &str) -> Server {
        Server::start_with(database_url, &[])
    }

    /// Starts `madoguchi serve` with extra environment variables.
    pub fn start_with(database_url: &str, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = madoguchi(database_url)
            .env("MADOGUCHI_BIND", format!("127.0.0.1:{port}"))
            .envs(env.iter().copied())
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    output.lock().unwrap().push(line);
                }
            });
        }
        Server {
            child,
            output,
            address: format!("http://127.0.0.1:{port}"),
        }
    }

    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(res) = reqwest::get(format!("{}/health/ready", self.address)).await
                && res.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "server did not become ready: {:?}",
            self.output.lock().unwrap()
        );
    }

    fn text(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn the_first_start_prints_a_one_time_admin_and_logs_no_secrets(db: Db) {
    let database = TestDatabase::create(db);
    let server = Server::start(&database.url);
    server.wait_ready().await;
    let text = server.text();
    let email = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("email:"))
        .expect("admin email printed")
        .trim()
        .to_owned();
    let one_time = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("one-time password:"))
        .expect("one-time password printed")
        .trim()
        .to_owned();
    assert_eq!(email, "admin@madoguchi.local");

    let client = reqwest::Client::new();
    let tokens: Value = login(&server.address, &email, &one_time)
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let new_password = "a new password the log must not show";
    let res = client
        .post(format!("{}/api/v1/me/password", server.address))
        .bearer_auth(&access)
        .json(&json!({"current_password": one_time, "new_password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = login(&server.address, &email, "a wrong password for the log").await;
    assert_eq!(res.status(), 401);
    let refreshed: Value = client
        .post(format!("{}/api/v1/auth/refresh", server.address))
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = client
        .get(format!("{}/api/v1/staff?q=090-1234-5678", server.address))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The log lines arrive through a pipe: wait (up to 10 s) for the last
    // request's line, the staff search, not for a fixed time.
    for _ in 0..100 {
        if server.text().contains("/api/v1/staff") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = server.text();
    assert!(
        text.contains("request completed"),
        "requests are logged: {text}"
    );
    assert_eq!(
        text.matches(one_time.as_str()).count(),
        1,
        "the one-time password is printed once"
    );
    for secret in [
        new_password,
        "a wrong password for the log",
        access.as_str(),
        tokens["refresh_token"].as_str().unwrap(),
        refreshed["access_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
        "090-1234-5678",
    ] {
        assert!(
            !text.contains(secret),
            "{secret:?} leaked into the console output"
        );
    }
    drop(server);

    // The second start finds the organisation and prints nothing of the kind.
    let server = Server::start(&database.url);
    server.wait_ready().await;
    assert!(!server.text().contains("one-time password"));
}

#[test]
fn check_says_what_is_wrong_one_line_each() {
    let backups = tempfile::tempdir().unwrap();
    let out = madoguchi("postgres://postgres@127.0.0.1:1/nowhere")
        .arg("check")
        .env("MADOGUCHI_ENV", "production")
        .env("MADOGUCHI_BACKUP__DIR", backups.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    let lines: Vec<&str> = said.lines().collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("ok: ") || l.starts_with("problem: ")),
        "one finding per line: {said}"
    );
    for expected in [
        "development JWT secret",
        "http.trusted_proxies is empty",
        "database: cannot connect",
    ] {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("problem: ") && l.contains(expected))
                .count(),
            1,
            "{expected}: {said}"
        );
    }
    // A sound development set-up on a new SQLite file.
    let database = TestDatabase::create(Db::Sqlite);
    let (ok, said) = check_on(&database.url);
    assert!(ok, "{said}");
    assert!(said.contains("ok: database: connected, new"), "{said}");
    assert!(!said.contains("problem:"), "{said}");
}

/// libpq and OpenSSL are compiled into the binary (issue 18): it runs on a
/// machine without the system's libpq5 or libssl.
#[test]
fn the_binary_brings_its_own_libpq_and_tls() {
    let out = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_madoguchi"))
        .output()
        .expect("ldd");
    let linked = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{linked}");
    assert!(linked.contains("libc.so"), "ldd read the binary: {linked}");
    for system in ["libpq", "libssl", "libcrypto"] {
        assert!(
            !linked.contains(system),
            "{system} is linked from the system: {linked}"
        );
    }
}

/// The bundled libpq still speaks TLS: a managed PostgreSQL that requires
/// it (`sslmode=require`) is reachable, and the connection is encrypted.
#[test]
fn postgres_connections_can_require_tls() {
    if crate::helpers::postgres_skipped() {
        return;
    }
    use diesel::prelude::*;
    let database = TestDatabase::create(Db::Postgres);
    let url = format!("{}?sslmode=require", database.url);
    let mut conn = diesel::PgConnection::establish(&url).expect("a TLS connection");
    #[derive(diesel::QueryableByName)]
    struct Ssl {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ssl: bool,
    }
    let row: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut conn)
        .unwrap();
    assert!(row.ssl, "the connection is encrypted");
    drop(conn);
    let (ok, said) = check_on(&url);
    assert!(ok, "{said}");
    assert!(said.contains("ok: database: connected"), "{said}");
}

/// SIGTERM in the middle of a burst of bookings: the server stops
/// accepting, answers what it accepted, and exits 0; every booking in the
/// database was answered 201, and no refused or cut request left one.
async fn sigterm_mid_burst_answers_what_it_took_and_leaves_nothing_half_done(db: Db) {
    let database = TestDatabase::create(db);
    let password = "graceful shutdown admin password";
    assert!(
        admin_create(&database.url, "Kita", "admin@kita.example", password)
            .status
            .success()
    );
    let mut server = Server::start_with(
        &database.url,
        &[
            ("MADOGUCHI_BOOTSTRAP__ENABLED", "false"),
            (
                "MADOGUCHI_BACKUP__DIR",
                std::env::temp_dir()
                    .join("madoguchi-test-backups")
                    .to_str()
                    .unwrap(),
            ),
            ("RUST_LOG", "warn"),
        ],
    );
    server.wait_ready().await;
    let base = server.address.clone();
    let client = reqwest::Client::new();
    let token = login(&base, "admin@kita.example", password)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = |path: String, body: Value| {
        let (client, token, base) = (client.clone(), token.clone(), base.clone());
        async move {
            client
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
        }
    };
    let venue: Value = post(
        "/api/v1/venues".into(),
        json!({"name": "北公民館", "default_capacity": 20}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let course: Value = post("/api/v1/courses".into(), json!({"title": "スマホ教室", "kind": "class", "default_fee_yen": 100, "default_length_minutes": 120}))
        .await.unwrap().json().await.unwrap();
    let session: Value = post(
        "/api/v1/sessions".into(),
        json!({"course_id": course["id"], "venue_id": venue["id"], "capacity": 50,
               "date": chrono::Utc::now().date_naive() + chrono::Duration::days(5), "start_time": "14:00"}),
    )
    .await.unwrap().json().await.unwrap();
    let s = session["id"].as_str().unwrap().to_owned();
    let mut residents = Vec::new();
    for i in 0..200 {
        let r: Value = post(
            "/api/v1/residents".into(),
            json!({"family_name": "住民", "given_name": i.to_string(), "family_name_kana": "じゅうみん",
                   "given_name_kana": "いち", "confirm_new_person": true}),
        )
        .await.unwrap().json().await.unwrap();
        residents.push(r["id"].as_str().unwrap().to_owned());
    }
    // The burst, and SIGTERM while it runs.
    let burst = residents.iter().map(|r| {
        let booking = post(
            format!("/api/v1/sessions/{s}/bookings"),
            json!({"resident_id": r, "channel": "phone"}),
        );
        let r = r.clone();
        async move {
            match booking.await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    (r, Some(status), body["id"].as_str().map(str::to_owned))
                }
                Err(_) => (r, None, None),
            }
        }
    });
    let pid = server.child.id() as i32;
    let term = async {
        tokio::time::sleep(Duration::from_millis(60)).await;
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    };
    let (answers, ()) = tokio::join!(futures::future::join_all(burst), term);
    let status = tokio::task::spawn_blocking(move || {
        let waited = server.child.wait().unwrap();
        (waited, server)
    })
    .await
    .unwrap();
    let (exit, server) = status;
    assert!(exit.success(), "exit status {exit:?}: {}", server.text());
    let answered: Vec<&(String, Option<u16>, Option<String>)> =
        answers.iter().filter(|(_, s, _)| s.is_some()).collect();
    for (_, status, _) in &answered {
        assert_eq!(
            *status,
            Some(201),
            "an accepted request is answered in full"
        );
    }
    let refused = answers.len() - answered.len();
    eprintln!("{} answered 201, {refused} not accepted", answered.len());
    // What the database holds is exactly what was answered.
    let pool =
        madoguchi::db::connect_pool(&database.url, 1, Duration::from_secs(10), 10_000).unwrap();
    let mut conn = pool.get().unwrap();
    use diesel::prelude::*;
    use madoguchi::db::schema::{bookings, sessions};
    let stored: Vec<String> = bookings::table
        .filter(bookings::session_id.eq(&s))
        .select(bookings::id)
        .load(&mut conn)
        .unwrap();
    let mut acknowledged: Vec<String> = answered
        .iter()
        .filter_map(|(_, _, id)| id.clone())
        .collect();
    let mut stored_sorted = stored.clone();
    acknowledged.sort();
    stored_sorted.sort();
    assert_eq!(
        stored_sorted, acknowledged,
        "every stored booking was answered, and only those"
    );
    let (taken, waiting): (i32, i32) = sessions::table
        .filter(sessions::id.eq(&s))
        .select((sessions::seats_taken, sessions::waitlist_count))
        .first(&mut conn)
        .unwrap();
    assert_eq!(
        i64::from(taken + waiting),
        stored.len() as i64,
        "counters match the rows"
    );
}
