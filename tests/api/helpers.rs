//! The test harness: start the real application on a random port against a
//! fresh database (a SQLite file, or a PostgreSQL database created for the
//! test and dropped after it), and talk to it over HTTP.

use std::sync::OnceLock;

use diesel::prelude::*;
use madoguchi::config::Settings;
use madoguchi::db::{self, DbConnection, OrganisationId, Pool, write_tx};
use madoguchi::error::AppError;
use madoguchi::organisations;
use madoguchi::staff::service::{self, NewStaff};
use madoguchi::staff::types::Role;
use madoguchi::startup::Application;
use secrecy::SecretString;
use serde_json::{Value, json};

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Generates one test per database for each async fn taking a `Db`.
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Db::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::helpers::postgres_skipped() {
                        return;
                    }
                    super::$name($crate::helpers::Db::Postgres).await
                }
            )*
        }
    };
}
pub(crate) use db_tests;

pub const ADMIN_PASSWORD: &str = "admin password for tests";
pub const STAFF_PASSWORD: &str = "staff password for tests";

/// The PostgreSQL server the tests use: `MADOGUCHI_TEST_PG_URL` or the local one.
pub fn postgres_server_url() -> String {
    std::env::var("MADOGUCHI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// PostgreSQL tests are skipped only when `MADOGUCHI_TEST_SKIP_PG=1`.
pub fn postgres_skipped() -> bool {
    let skip = std::env::var("MADOGUCHI_TEST_SKIP_PG").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("MADOGUCHI_TEST_SKIP_PG=1: skipping a PostgreSQL test");
    }
    skip
}

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub fn create(kind: Db) -> TestDatabase {
        match kind {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = dir
                    .path()
                    .join("madoguchi.db")
                    .to_string_lossy()
                    .into_owned();
                TestDatabase {
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Db::Postgres => {
                let name = format!("madoguchi_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = admin_connection();
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .expect("create the test database");
                let url = format!("{}/{name}", postgres_server_url().trim_end_matches('/'));
                TestDatabase {
                    url,
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

fn admin_connection() -> PgConnection {
    let url = format!("{}/postgres", postgres_server_url().trim_end_matches('/'));
    PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {url}: {e}\n\
             Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), \
             point MADOGUCHI_TEST_PG_URL at one, or set MADOGUCHI_TEST_SKIP_PG=1 to skip these tests."
        )
    })
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            let mut admin = admin_connection();
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// Settings for a test: random port, the given database, no bootstrap, and
/// the development secret (tests forge tokens with it).
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        ..Default::default()
    };
    settings.database.url = database_url.to_owned();
    settings.database.pool_size = 8;
    settings.bootstrap.enabled = false;
    // Tests run the background jobs themselves, when they mean to.
    settings.jobs.enabled = false;
    settings.http.workers = 2;
    // Files the `file` transport would write go to the system's temp dir.
    settings.mail.file_dir = std::env::temp_dir()
        .join("madoguchi-test-mail")
        .to_string_lossy()
        .into_owned();
    settings
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: Pool,
    pub org_id: OrganisationId,
    pub admin_email: String,
    pub admin_token: String,
    // Dropped last: the server's pool must not outlive its database on disk.
    pub database: TestDatabase,
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var("TEST_LOG").is_ok() {
            madoguchi::telemetry::init(&Settings::default().log);
        }
    });
}

pub async fn spawn_app(kind: Db) -> TestApp {
    spawn_app_with(kind, |_| {}).await
}

/// Starts the app with adjusted settings, and an organisation "Kita" with one
/// admin (`admin@kita.example`) already logged in.
pub async fn spawn_app_with(kind: Db, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let database = TestDatabase::create(kind);
    let mut settings = test_settings(&database.url);
    adjust(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let pool = db::connect_pool(&database.url, 8, std::time::Duration::from_secs(10), 10_000)
        .expect("test pool");
    let (org_id, admin_email) = seed_organisation(&pool, "Kita", "admin@kita.example");
    let client = reqwest::Client::builder().build().expect("http client");
    let mut app = TestApp {
        address,
        client,
        pool,
        org_id,
        admin_email: admin_email.clone(),
        admin_token: String::new(),
        database,
    };
    app.admin_token = app.login_ok(&admin_email, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    app
}

/// Creates an organisation with one admin (password `ADMIN_PASSWORD`) directly
/// in the database, as the CLI would.
pub fn seed_organisation(pool: &Pool, name: &str, admin_email: &str) -> (OrganisationId, String) {
    let mut conn = pool.get().expect("connection");
    let new = NewStaff::parse(
        admin_email,
        "Admin",
        Role::Admin,
        None,
        &SecretString::from(ADMIN_PASSWORD),
    )
    .expect("valid admin");
    let hash = madoguchi::auth::password::hash(&new.password).expect("hash");
    let org = write_tx(&mut conn, |conn: &mut DbConnection| {
        let org = organisations::queries::insert(conn, name)?;
        service::create(conn, org.id, None, &new, &hash, false)?;
        Ok::<_, AppError>(org)
    })
    .expect("seed organisation");
    (org.id, new.email.as_str().to_owned())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// POSTs and asserts the status; returns the JSON answer, checked
    /// against the schema the OpenAPI document declares for it.
    pub async fn post_ok(&self, path: &str, token: &str, body: &Value, status: u16) -> Value {
        let res = self.post(path, token, body).await;
        let got = res.status().as_u16();
        let content_type = content_type_of(&res);
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "POST {path}: {answer}");
        self.conforms("post", path, got, &content_type, &answer)
            .await;
        answer
    }

    /// GETs and asserts 200; returns the JSON answer, checked against the
    /// schema the OpenAPI document declares for it.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, token).await;
        let got = res.status().as_u16();
        let content_type = content_type_of(&res);
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(got, 200, "GET {path}: {answer}");
        self.conforms("get", path, got, &content_type, &answer)
            .await;
        answer
    }

    /// Every answer that goes through `get_ok`/`post_ok` in any test is
    /// validated against its declared schema, so the document cannot drift.
    async fn conforms(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: &Value,
    ) {
        static DOC: tokio::sync::OnceCell<Value> = tokio::sync::OnceCell::const_new();
        let doc = DOC
            .get_or_init(|| async {
                self.client
                    .get(self.url("/api/openapi.json"))
                    .send()
                    .await
                    .expect("the document")
                    .json()
                    .await
                    .expect("JSON")
            })
            .await;
        let errors = crate::openapi::answer_errors(doc, method, path, status, content_type, body);
        assert!(
            errors.is_empty(),
            "{} {path} {status} does not match its declared schema:\n{}\n{body}",
            method.to_uppercase(),
            errors.join("\n")
        );
    }

    /// A venue (capacity 20) and a course (120 minutes, 100 yen), as the admin.
    pub async fn venue_and_course(&self) -> (String, String) {
        let venue = self
            .post_ok(
                "/api/v1/venues",
                &self.admin_token,
                &json!({"name": "北公民館", "address": "北町1-2-3", "room": "第1会議室", "default_capacity": 20}),
                201,
            )
            .await;
        let course = self
            .post_ok(
                "/api/v1/courses",
                &self.admin_token,
                &json!({"title": "はじめてのスマホ教室", "kind": "class", "level": "basic", "default_fee_yen": 100,
                        "default_length_minutes": 120, "topics": ["power_and_buttons", "calls"]}),
                201,
            )
            .await;
        (
            venue["id"].as_str().unwrap().to_owned(),
            course["id"].as_str().unwrap().to_owned(),
        )
    }

    /// A one-off session in five days at a venue of its own (capacity as
    /// given, 100 yen, 200 yen with a loaner); `extra` overrides fields.
    pub async fn session_ok(&self, capacity: i64, extra: Value) -> String {
        let venue = self
            .post_ok(
                "/api/v1/venues",
                &self.admin_token,
                &json!({"name": format!("会場 {}", uuid::Uuid::now_v7()), "default_capacity": 20}),
                201,
            )
            .await;
        let course = self
            .post_ok(
                "/api/v1/courses",
                &self.admin_token,
                &json!({"title": "スマホ教室", "kind": "class", "default_fee_yen": 100, "default_length_minutes": 120}),
                201,
            )
            .await;
        let mut body = json!({"course_id": course["id"], "venue_id": venue["id"],
                              "date": chrono::Utc::now().date_naive() + chrono::Duration::days(5),
                              "start_time": "14:00", "capacity": capacity, "loaner_fee_yen": 200});
        for (k, v) in extra.as_object().expect("extra fields are an object") {
            body[k] = v.clone();
        }
        self.post_ok("/api/v1/sessions", &self.admin_token, &body, 201)
            .await["id"]
            .as_str()
            .expect("session id")
            .to_owned()
    }

    /// A loaner smartphone whose home is `venue`.
    pub async fn loaner_device(&self, venue: &str, asset_tag: &str) -> Value {
        self.post_ok(
            "/api/v1/devices",
            &self.admin_token,
            &json!({"asset_tag": asset_tag, "kind": "smartphone", "os": "android", "model": "AQUOS wish4", "home_venue_id": venue}),
            201,
        )
        .await
    }

    /// The venue of a session.
    pub async fn venue_of(&self, session: &str) -> String {
        self.get_ok(&format!("/api/v1/sessions/{session}"), &self.admin_token)
            .await["venue"]["id"]
            .as_str()
            .expect("venue id")
            .to_owned()
    }

    /// `n` residents 住民 0, 住民 1 … (new people, no duplicate check).
    pub async fn residents_ok(&self, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..n {
            ids.push(self.resident_ok("住民", &i.to_string(), "じゅうみん").await);
        }
        ids
    }

    /// One new resident with the given family name, given name and family kana.
    pub async fn resident_ok(&self, family: &str, given: &str, family_kana: &str) -> String {
        self.post_ok(
            "/api/v1/residents",
            &self.admin_token,
            &json!({"family_name": family, "given_name": given, "family_name_kana": family_kana, "given_name_kana": "いち",
                    "confirm_new_person": true}),
            201,
        )
        .await["id"]
            .as_str()
            .expect("resident id")
            .to_owned()
    }

    /// Books a resident by phone, as the admin.
    pub async fn book(&self, session: &str, resident: &str) -> reqwest::Response {
        self.post(
            &format!("/api/v1/sessions/{session}/bookings"),
            &self.admin_token,
            &json!({"resident_id": resident, "channel": "phone"}),
        )
        .await
    }

    /// Books a resident and asserts 201; returns the booking.
    pub async fn book_ok(&self, session: &str, resident: &str) -> Value {
        let res = self.book(session, resident).await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 201, "booking: {body}");
        body
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_anonymous(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_anonymous(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Logs in and returns the token pair; panics unless it answers 200.
    pub async fn login_ok(&self, email: &str, password: &str) -> Value {
        let res = self.login(email, password).await;
        assert_eq!(res.status(), 200, "login of {email} should succeed");
        res.json().await.expect("json")
    }

    /// Creates a staff account as the admin and returns it.
    pub async fn create_staff(&self, email: &str, role: &str) -> Value {
        let res = self
            .post(
                "/api/v1/staff",
                &self.admin_token,
                &json!({"email": email, "name": format!("Staff {email}"), "role": role, "password": STAFF_PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 201, "staff {email} should be created");
        res.json().await.expect("json")
    }

    /// Creates a staff account and returns (account, access token).
    pub async fn staff_with_token(&self, email: &str, role: &str) -> (Value, String) {
        let account = self.create_staff(email, role).await;
        let tokens = self.login_ok(email, STAFF_PASSWORD).await;
        (
            account,
            tokens["access_token"].as_str().expect("token").to_owned(),
        )
    }

    /// Moves a session's start (and end, two hours later) to `from_now`:
    /// the clock of a class that is about to start or has started, which
    /// the API cannot create (sessions start in the future).
    pub fn set_session_start(&self, session: &str, from_now: chrono::Duration) {
        use madoguchi::db::schema::sessions;
        let starts = chrono::Utc::now().naive_utc() + from_now;
        let mut conn = self.pool.get().expect("connection");
        diesel::update(sessions::table.filter(sessions::id.eq(session)))
            .set((
                sessions::starts_at.eq(starts),
                sessions::ends_at.eq(starts + chrono::Duration::hours(2)),
            ))
            .execute(&mut *conn)
            .expect("move the session");
    }

    /// Number of audit rows in the whole database (all organisations).
    pub fn audit_count(&self) -> i64 {
        use madoguchi::db::schema::audit_log;
        let mut conn = self.pool.get().expect("connection");
        audit_log::table
            .count()
            .get_result(&mut *conn)
            .expect("count")
    }

    /// Number of active admins in the whole database.
    pub fn active_admin_count(&self) -> i64 {
        use madoguchi::db::schema::staff_accounts;
        let mut conn = self.pool.get().expect("connection");
        staff_accounts::table
            .filter(staff_accounts::role.eq("admin"))
            .filter(staff_accounts::active.eq(true))
            .count()
            .get_result(&mut *conn)
            .expect("count")
    }

    /// Number of staff accounts in the whole database.
    pub fn staff_count(&self) -> i64 {
        use madoguchi::db::schema::staff_accounts;
        let mut conn = self.pool.get().expect("connection");
        staff_accounts::table
            .count()
            .get_result(&mut *conn)
            .expect("count")
    }
}

fn content_type_of(res: &reqwest::Response) -> String {
    res.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Asserts a problem+json answer with the given status and code; returns the body.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(
        content_type, "application/problem+json",
        "content type of {body}"
    );
    assert_eq!(body["code"], code, "code of {body}");
    assert_eq!(body["status"], status, "status in {body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    assert_eq!(body["type"], format!("urn:madoguchi:problem:{code}"));
    body
}

/// The schedule job's hooks as the server wires them (enrolments keep their
/// promise when sessions are added).
pub fn schedule_hooks() -> madoguchi::schedule::job::Hooks {
    madoguchi::schedule::job::Hooks {
        loaner_turnaround_minutes: madoguchi::config::Settings::default()
            .loaners
            .turnaround_minutes,
        on_sessions_added: madoguchi::bookings::enrolment::keep_promises,
    }
}
