//! Background jobs at shutdown: a running job finishes within the grace
//! period and releases its lease, or gives the lease up so another instance
//! need not wait for it to run out; no new run starts once stopping.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use madoguchi::db::schema::job_leases;
use madoguchi::jobs::{self, Job, Stopped};

use crate::helpers::{Db, db_tests, spawn_app};

/// A job that says when it starts, works for `takes`, then counts a run.
fn slow_job(
    name: &'static str,
    takes: Duration,
    started: Arc<AtomicBool>,
    finished: Arc<AtomicUsize>,
) -> Job {
    Job {
        name,
        every: Duration::from_millis(50),
        run: Box::new(move |_conn| {
            started.store(true, Ordering::SeqCst);
            std::thread::sleep(takes);
            finished.fetch_add(1, Ordering::SeqCst);
            Ok(1)
        }),
    }
}

/// Starts the instance's job loop with one slow job and returns once the
/// job runs: the loops, and the count of completed runs.
async fn start_slow_job(
    app: &crate::helpers::TestApp,
    name: &'static str,
    takes: Duration,
) -> (jobs::Running, Arc<AtomicUsize>) {
    let (started, finished) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let running = jobs::spawn(
        app.pool.clone(),
        true,
        vec![slow_job(name, takes, started.clone(), finished.clone())],
    );
    for _ in 0..1000 {
        if started.load(Ordering::SeqCst) {
            return (running, finished);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the job never started");
}

fn lease_until(app: &crate::helpers::TestApp, name: &str) -> Option<chrono::NaiveDateTime> {
    let mut conn = app.pool.get().unwrap();
    job_leases::table
        .filter(job_leases::name.eq(name))
        .select(job_leases::lease_until)
        .first(&mut conn)
        .unwrap()
}

async fn a_stopping_instance_lets_its_running_job_finish_and_starts_no_other(db: Db) {
    let app = spawn_app(db).await;
    // Long enough that the checks below see it still running even on
    // a busy machine; well inside the grace.
    let (running, finished) = start_slow_job(&app, "test_finishing", Duration::from_secs(3)).await;
    assert!(
        lease_until(&app, "test_finishing").is_some(),
        "the running job holds its lease"
    );
    assert_eq!(finished.load(Ordering::SeqCst), 0, "still running");
    let stopped = running.stop(Duration::from_secs(10)).await;
    assert_eq!(stopped, Stopped::Finished);
    assert_eq!(finished.load(Ordering::SeqCst), 1, "the run was completed");
    assert_eq!(
        lease_until(&app, "test_finishing"),
        None,
        "and its lease released"
    );
    // Nothing starts after the stop, although the job was due every 50 ms.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

async fn a_job_that_outlasts_the_grace_gives_up_its_lease(db: Db) {
    let app = spawn_app(db).await;
    let (running, finished) = start_slow_job(&app, "test_outlasting", Duration::from_secs(8)).await;
    let mut conn = app.pool.get().unwrap();
    let until = chrono::Utc::now().naive_utc() + chrono::Duration::minutes(10);
    assert!(
        !jobs::lease::claim(&mut conn, "test_outlasting", "another instance", until).unwrap(),
        "while it runs, no other instance can take the job"
    );
    let stopped = running.stop(Duration::from_millis(300)).await;
    assert_eq!(stopped, Stopped::GaveUp);
    assert_eq!(finished.load(Ordering::SeqCst), 0, "it was still running");
    assert!(
        jobs::lease::claim(&mut conn, "test_outlasting", "another instance", until).unwrap(),
        "another instance takes the work at once instead of waiting ten minutes"
    );
}

db_tests!(
    a_stopping_instance_lets_its_running_job_finish_and_starts_no_other,
    a_job_that_outlasts_the_grace_gives_up_its_lease,
);
