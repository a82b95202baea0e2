//! Builds the application: pool, migrations, router, middleware, listener.
//! `Application::build` binds first so tests can ask for port 0 and read the
//! port back.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::http::{self, BodyLimit, RouteTable};
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::{
    audit, auth, bookings, bootstrap, courses, devices, fees, health, messages, organisations,
    reports, residents, schedule, staff, telemetry, tickets, venues,
};

/// How long a stopping server waits for requests in flight, and then for a
/// running job.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Application {
    port: u16,
    server: Server,
    /// The background jobs, stopped after the server (see `run_until_stopped`).
    jobs: crate::jobs::Running,
    /// SQLite: held while the server runs, so a restore refuses.
    _server_lock: Option<crate::backup::ServerLock>,
}

impl Application {
    /// Opens the database, applies migrations, runs the first-start
    /// bootstrap and binds the listener. The server runs when `run` is awaited.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        settings.check()?;
        // A restore refuses while a server holds this (SQLite).
        let server_lock = match crate::backup::sqlite_file(&settings.database.url) {
            Some(file) => Some(crate::backup::ServerLock::take(&file)?),
            None => None,
        };
        let pool = open_database(&settings).await?;
        if settings.bootstrap.enabled {
            let (pool, bootstrap_settings) = (pool.clone(), settings.bootstrap.clone());
            if let Some(created) =
                web::block(move || bootstrap::first_start(&pool, &bootstrap_settings)).await??
            {
                created.print();
            }
        }
        // Pay for the dummy hash now rather than in the first login.
        web::block(auth::password::warm_up).await?;
        // Hand back what start-up (migrations, the first hashes, each
        // worker's collection of the API document) used and freed.
        trim_allocator();
        // And again now and then: a burst of requests leaves freed memory
        // in holes of the heap that glibc keeps until asked (after the loads
        // of docs/benchmarks.md: 81 MB, settled by this to the figure there).
        tokio::spawn(async {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            let mut every = tokio::time::interval(TRIM_EVERY);
            loop {
                every.tick().await;
                let _ = tokio::task::spawn_blocking(trim_allocator).await;
            }
        });
        let jobs = crate::jobs::spawn(pool.clone(), settings.jobs.enabled, jobs(&settings)?);
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        let server = run(listener, pool, settings)?;
        Ok(Application {
            port,
            server,
            jobs,
            _server_lock: server_lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT: then the listener closes, requests in
    /// flight are answered (up to `SHUTDOWN_GRACE`), and a job that is
    /// running finishes within the same grace or gives up its lease.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        let stopped = self.jobs.stop(SHUTDOWN_GRACE).await;
        tracing::info!(jobs = ?stopped, "madoguchi stopped");
        served
    }
}

/// glibc's allocator, as a small long-running server wants it: two arenas
/// instead of eight per core (each thread that allocates otherwise gets its
/// own, and keeps what it touched), and large blocks (argon2's 19 MiB per
/// password hash, big answers) from mmap, given back to the system when
/// freed instead of kept in an arena. Idle memory went from about 75 MB to
/// under 40 MB (docs/benchmarks.md). Before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// How often a serving process hands freed heap memory back.
const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Returns freed heap memory to the system (glibc); a no-op elsewhere.
pub fn trim_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Connects the pool and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Pool> {
    let db = settings.database.clone();
    let backup = settings.backup.clone();
    web::block(move || {
        let pool = db::connect_pool_from(&db)?;
        let mut conn = pool.get()?;
        // An upgrade of an existing SQLite file: keep a copy first.
        if let Some(file) = crate::backup::sqlite_file(&db.url)
            && backup.before_migrations
            && db::applied_migration_count(&mut conn)? > 0
            && !db::pending_migrations(&mut conn)?.is_empty()
            && let Some(copy) =
                crate::backup::before_migrations(&file, std::path::Path::new(&backup.dir))?
        {
            tracing::info!(copy = %copy.display(), "database copied before migrations");
        }
        let applied = db::run_migrations(&mut conn)?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
        Ok::<_, anyhow::Error>(pool)
    })
    .await?
}

/// Every job of the application, with intervals from the settings.
pub fn jobs(settings: &Settings) -> anyhow::Result<Vec<crate::jobs::Job>> {
    let mailer = std::sync::Arc::new(crate::messages::transport::Mailer::from_settings(
        &settings.mail,
    )?);
    Ok(vec![
        crate::messages::delivery::job(
            mailer,
            tokio::runtime::Handle::current(),
            settings.mail.clone(),
        ),
        crate::bookings::reminders::job(settings.mail.delivery_interval_secs),
        crate::schedule::job::job(
            &settings.schedule,
            crate::schedule::job::Hooks {
                loaner_turnaround_minutes: settings.loaners.turnaround_minutes,
                on_sessions_added: crate::bookings::enrolment::keep_promises,
            },
        ),
        crate::tickets::jobs::job(
            settings.tickets.auto_close_days,
            settings.tickets.auto_close_interval_secs,
        ),
        crate::bookings::lottery::job(
            settings.jobs.lottery_interval_secs,
            crate::bookings::lottery::NoShowRule {
                count: settings.attendance.no_show_warning_count,
                months: settings.attendance.no_show_months,
            },
            settings.loaners.turnaround_minutes,
        ),
        crate::bookings::offers::job(
            settings.jobs.lottery_interval_secs,
            settings.loaners.turnaround_minutes,
        ),
        crate::jobs::housekeeping_job(settings.jobs.housekeeping_interval_secs),
        crate::privacy::service::retention_job(settings.jobs.housekeeping_interval_secs),
        crate::backup::job(
            crate::backup::sqlite_file(&settings.database.url)
                .filter(|_| settings.backup.interval_hours > 0),
            &settings.backup,
        ),
    ])
}

/// The API's routes, in the order features were added. A new feature adds
/// one `configure` line here and its tag in `openapi.rs`.
fn api_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    auth::routes::configure(cfg);
    staff::me::configure(cfg);
    staff::routes::configure(cfg);
    audit::routes::configure(cfg);
    organisations::routes::configure(cfg);
    venues::routes::configure(cfg);
    venues::hours_routes::configure(cfg);
    courses::routes::configure(cfg);
    schedule::closure_routes::configure(cfg);
    schedule::series_routes::configure(cfg);
    schedule::session_routes::configure(cfg);
    schedule::feed_routes::configure(cfg);
    residents::routes::configure(cfg);
    crate::privacy::routes::configure(cfg);
    bookings::merge_routes::configure(cfg);
    bookings::routes::configure(cfg);
    bookings::enrolment_routes::configure(cfg);
    bookings::session_routes::configure(cfg);
    bookings::offer_routes::configure(cfg);
    bookings::lottery_routes::configure(cfg);
    devices::routes::configure(cfg);
    devices::loan_routes::configure(cfg);
    fees::routes::configure(cfg);
    tickets::routes::configure(cfg);
    tickets::duty_routes::configure(cfg);
    messages::routes::configure(cfg);
    reports::routes::configure(cfg);
    reports::programme_routes::configure(cfg);
}

fn run(listener: TcpListener, pool: Pool, settings: Settings) -> anyhow::Result<Server> {
    let body_limit = BodyLimit(settings.http.max_body_bytes);
    let workers = settings.http.workers;
    let list_cache = crate::schedule::list_cache::ListCache::new(Duration::from_millis(
        settings.schedule.list_cache_ms,
    ));
    let state = web::Data::new(AppState {
        pool,
        list_cache: Arc::new(list_cache),
        db_slots: Arc::new(tokio::sync::Semaphore::new(
            settings.database.pool_size as usize,
        )),
        booking_groups: Arc::new(crate::bookings::group::Groups::new(
            Duration::from_millis(settings.bookings.group_window_ms),
            settings.bookings.group_lanes,
        )),
        jwt: Arc::new(JwtKeys::new(&settings.auth)),
        settings: Arc::new(settings),
        on_sessions_added: crate::bookings::enrolment::keep_promises,
        on_session_moved: crate::bookings::service::tell_session_moved,
    });
    // The OpenAPI document and the route table for 405 answers come from
    // the same registrations, collected once here: each worker's own
    // collection is dropped when its app is built, and every worker serves
    // this one document, serialised once (it was kept per worker, about
    // 10 MB each; docs/benchmarks.md).
    let (_, mut openapi) = build_app(
        state.clone(),
        web::Data::new(RouteTable::default()),
        body_limit,
        web::Data::new(OpenApiJson(web::Bytes::new())),
    )
    .split_for_parts();
    let routes = web::Data::new(RouteTable::from_openapi(&openapi));
    crate::openapi::complete(&mut openapi);
    let document = web::Data::new(OpenApiJson(web::Bytes::from(serde_json::to_vec(&openapi)?)));
    drop(openapi);
    let mut server = HttpServer::new(move || {
        build_app(state.clone(), routes.clone(), body_limit, document.clone()).into_app()
    })
    .listen(listener)?
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs());
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// The OpenAPI document, serialised once.
pub struct OpenApiJson(web::Bytes);

async fn openapi_json(doc: web::Data<OpenApiJson>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

fn build_app(
    state: web::Data<AppState>,
    routes: web::Data<RouteTable>,
    body_limit: BodyLimit,
    document: web::Data<OpenApiJson>,
) -> utoipa_actix_web::UtoipaApp<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(routes)
        .app_data(body_limit)
        .app_data(http::query_config())
        .app_data(http::path_config())
        .configure(health::configure)
        .service(scope::scope("/api/v1").configure(api_routes))
        .default_service(web::to(http::fallback))
        .map(|app| {
            app.app_data(document)
                .route("/api/openapi.json", web::get().to(openapi_json))
                .route("/metrics", web::get().to(crate::metrics::serve))
                .service(
                    SwaggerUi::new("/api/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from("/api/openapi.json")),
                )
                .service(web::redirect("/api/docs", "/api/docs/"))
                .configure(crate::console::configure)
                .wrap(from_fn(http::input::reject_control_characters))
                .wrap(from_fn(telemetry::request_span))
        })
}
