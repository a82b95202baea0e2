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
