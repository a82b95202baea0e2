//! Writes under parallel requests: no duplicates, no lost updates, and on
//! SQLite no "database is locked" failures.

use serde_json::{Value, json};

use crate::helpers::{Db, STAFF_PASSWORD, db_tests, spawn_app};

async fn parallel_creates_with_one_email_make_one_account(db: Db) {
    let app = spawn_app(db).await;
    let before = app.staff_count();
    let body = json!({"email": "race@kita.example", "name": "Race", "role": "volunteer", "password": STAFF_PASSWORD});
    let answers = futures::future::join_all(
        (0..20).map(|_| app.post("/api/v1/staff", &app.admin_token, &body)),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(app.staff_count(), before + 1);
}

async fn parallel_creates_of_different_accounts_all_commit(db: Db) {
    let app = spawn_app(db).await;
    let before = (app.staff_count(), app.audit_count());
    let bodies: Vec<Value> = (0..30)
        .map(|i| json!({"email": format!("p{i}@kita.example"), "name": format!("P{i}"), "role": "volunteer", "password": STAFF_PASSWORD}))
        .collect();
    let answers = futures::future::join_all(
        bodies
            .iter()
            .map(|b| app.post("/api/v1/staff", &app.admin_token, b)),
    )
    .await;
    for res in &answers {
        assert_eq!(res.status(), 201);
    }
    assert_eq!(
        (app.staff_count(), app.audit_count()),
        (before.0 + 30, before.1 + 30),
        "each 201 is committed"
    );
}

async fn two_admins_demoting_each_other_at_once_leave_one_admin(db: Db) {
    for round in 0..3 {
        let app = spawn_app(db).await;
        let (second, second_token) = app.staff_with_token("second@kita.example", "admin").await;
        let me: Value = app
            .get("/api/v1/me", &app.admin_token)
            .await
            .json()
            .await
            .unwrap();
        let (first_id, second_id) = (me["id"].as_str().unwrap(), second["id"].as_str().unwrap());
        let demote = json!({"role": "coordinator"});
        let (path_a, path_b) = (
            format!("/api/v1/staff/{second_id}"),
            format!("/api/v1/staff/{first_id}"),
        );
        let (a, b) = tokio::join!(
            app.patch(&path_a, &app.admin_token, &demote),
            app.patch(&path_b, &second_token, &demote),
        );
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| [200, 403, 409].contains(s)),
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            app.active_admin_count(),
            1,
            "round {round}: exactly one admin remains"
        );
    }
}

db_tests!(
    parallel_creates_with_one_email_make_one_account,
    parallel_creates_of_different_accounts_all_commit,
    two_admins_demoting_each_other_at_once_leave_one_admin,
);
