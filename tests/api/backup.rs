//! Backups of the embedded SQLite database: while serving, restore, and the
//! copy an upgrade takes before migrating.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use madoguchi::backup;
use serde_json::json;

use crate::helpers::{Db, TestDatabase, spawn_app, test_settings};

fn madoguchi(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DATABASE_URL", database_url)
        .env_remove("MADOGUCHI_ENV")
        .env("RUST_LOG", "warn");
    cmd
}

fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_a_burst_holds_every_booking_acknowledged_before_it() {
    let app = spawn_app(Db::Sqlite).await;
    let db = backup::sqlite_file(&app.database.url).unwrap();
    let s = app.session_ok(30, json!({})).await;
    let people = app.residents_ok(150).await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("during.db");

    let t0 = Instant::now();
    // The backup starts once 20 bookings are acknowledged (not after a fixed
    // time: on a busy machine the first answers can take longer).
    let acked_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let requests = people.iter().map(|r| {
        let app = &app;
        let s = s.clone();
        let acked_so_far = acked_so_far.clone();
        async move {
            let res = app.book(&s, r).await;
            let acked = Instant::now();
            acked_so_far.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let ok = res.status() == 201;
            let body: serde_json::Value = res.json().await.unwrap();
            (ok, body["id"].as_str().map(str::to_owned), acked)
        }
    });
    let (db_for_backup, copy_for_backup) = (db.clone(), copy.clone());
    let acked_for_backup = acked_so_far.clone();
    let taking = tokio::spawn(async move {
        while acked_for_backup.load(std::sync::atomic::Ordering::SeqCst) < 20 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let started = Instant::now();
        tokio::task::spawn_blocking(move || backup::backup_to(&db_for_backup, &copy_for_backup))
            .await
            .unwrap()
            .unwrap();
        (started, Instant::now())
    });
    let answers = futures::future::join_all(requests).await;
    let (started, finished) = taking.await.unwrap();
    assert!(
        answers.iter().all(|(ok, _, _)| *ok),
        "every booking answered 201"
    );
    let before: Vec<&String> = answers
        .iter()
        .filter(|(_, _, acked)| *acked < started)
        .filter_map(|(_, id, _)| id.as_ref())
        .collect();
    let after = answers.iter().filter(|(_, _, a)| *a > finished).count();
    eprintln!(
        "{} acknowledged before the backup began ({} ms in), {after} after it ended",
        before.len(),
        (started - t0).as_millis()
    );
    assert!(!before.is_empty(), "the backup ran during the burst");

    // Restore into a fresh file and look.
    let restored = dir.path().join("restored.db");
    assert_eq!(backup::restore_from(&restored, &copy).unwrap(), None);
    let mut conn = SqliteConnection::establish(&restored.to_string_lossy()).unwrap();
    for id in &before {
        assert_eq!(
            count(
                &mut conn,
                &format!("SELECT COUNT(*) AS n FROM bookings WHERE id = '{id}'")
            ),
            1,
            "booking {id} acknowledged before the backup is in it"
        );
    }
    let confirmed = count(
        &mut conn,
        &format!(
            "SELECT COUNT(*) AS n FROM bookings WHERE session_id = '{s}' AND status = 'confirmed'"
        ),
    );
    let waiting = count(
        &mut conn,
        &format!(
            "SELECT COUNT(*) AS n FROM bookings WHERE session_id = '{s}' AND status = 'waitlisted'"
        ),
    );
    let taken = count(
        &mut conn,
        &format!("SELECT seats_taken AS n FROM sessions WHERE id = '{s}'"),
    );
    let queued = count(
        &mut conn,
        &format!("SELECT waitlist_count AS n FROM sessions WHERE id = '{s}'"),
    );
    assert_eq!(
        (taken, queued),
        (confirmed, waiting),
        "counters match the rows"
    );
    assert!(confirmed <= 30);
    // Each booking's audit entry and its booking are in the copy together.
    let audited = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'booking.create'",
    );
    assert_eq!(audited, confirmed + waiting);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_refuses_while_a_server_runs_and_keeps_the_replaced_file() {
    let app = spawn_app(Db::Sqlite).await;
    let db = backup::sqlite_file(&app.database.url).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    backup::backup_to(&db, &copy).unwrap();
    let refused = backup::restore_from(&db, &copy).unwrap_err().to_string();
    assert!(refused.contains("server is running"), "{refused}");
    // The same through the command line, which says it in one line.
    let out = madoguchi(&app.database.url)
        .args(["restore", "--from"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server is running"));
    // A backup never overwrites.
    assert!(backup::backup_to(&db, &copy).is_err());
    // Where no server runs: the old file is kept aside.
    let other = dir.path().join("other.db");
    backup::backup_to(&db, &other).unwrap();
    let kept = backup::restore_from(&other, &copy).unwrap().unwrap();
    assert!(kept.exists() && other.exists(), "{}", kept.display());
    // Not a database: refused, nothing replaced.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    assert!(backup::restore_from(&other, &junk).is_err());
    let mut conn = SqliteConnection::establish(&other.to_string_lossy()).unwrap();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM organisations"),
        1
    );
}

fn files_in(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|e| {
            e.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_copies_the_file_first_and_a_dry_run_lists_what_would_run() {
    let database = TestDatabase::create(Db::Sqlite);
    let file = backup::sqlite_file(&database.url).unwrap();
    {
        let pool =
            madoguchi::db::connect_pool(&database.url, 1, Duration::from_secs(10), 10_000).unwrap();
        let mut conn = pool.get().unwrap();
        madoguchi::db::run_migrations(&mut conn).unwrap();
        // The database of the previous version.
        madoguchi::db::revert_last_migration(&mut conn).unwrap();
    }
    let out = madoguchi(&database.url)
        .args(["migrate", "--dry-run"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("1 migration(s) would run"), "{said}");
    assert!(said.contains("lottery"), "{said}");
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&database.url);
    settings.backup.dir = dir.path().to_string_lossy().into_owned();
    let app = madoguchi::startup::Application::build(settings)
        .await
        .unwrap();
    let copies = files_in(dir.path(), "before-migrations-");
    assert_eq!(copies.len(), 1, "one copy before migrating");
    let mut copy = SqliteConnection::establish(&copies[0].to_string_lossy()).unwrap();
    assert_eq!(
        count(
            &mut copy,
            "SELECT COUNT(*) AS n FROM __diesel_schema_migrations"
        ),
        17,
        "the copy is the database as it was"
    );
    drop(app);
    let out = madoguchi(&database.url)
        .args(["migrate", "--dry-run"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing would run"));
    assert!(file.exists());
    // Nightly backups keep the newest N.
    let nightly = dir.path().join("nightly");
    for _ in 0..4 {
        backup::rotate(&file, &nightly, 2).unwrap();
    }
    assert_eq!(files_in(&nightly, "madoguchi-").len(), 2);
}
