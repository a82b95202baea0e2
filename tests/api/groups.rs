//! Group commit (`bookings::group`): bookings of one session arriving
//! together share a transaction; each is answered only after the commit
//! that holds it, and one bad booking in a group fails alone.

use diesel::prelude::*;
use madoguchi::db::schema::{bookings, outbox_messages, sessions};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, db_tests, spawn_app_with};

/// The first booking of a group waits this long for others: the requests
/// sent together below surely meet in one group.
async fn app_with_window(db: Db) -> TestApp {
    spawn_app_with(db, |s| s.bookings.group_window_ms = 300).await
}

async fn book(app: &TestApp, session: &str, body: Value) -> (u16, Value) {
    let res = app
        .post(
            &format!("/api/v1/sessions/{session}/bookings"),
            &app.admin_token,
            &body,
        )
        .await;
    (res.status().as_u16(), res.json().await.unwrap())
}

fn committed(app: &TestApp, booking: &str) -> bool {
    let mut conn = app.pool.get().unwrap();
    bookings::table
        .filter(bookings::id.eq(booking))
        .count()
        .get_result::<i64>(&mut *conn)
        .unwrap()
        == 1
}

fn counters(app: &TestApp, session: &str) -> (i32, i32) {
    let mut conn = app.pool.get().unwrap();
    sessions::table
        .filter(sessions::id.eq(session))
        .select((sessions::seats_taken, sessions::waitlist_count))
        .first(&mut *conn)
        .unwrap()
}

fn rows_by_status(app: &TestApp, session: &str, status: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    bookings::table
        .filter(bookings::session_id.eq(session))
        .filter(bookings::status.eq(status))
        .count()
        .get_result(&mut *conn)
        .unwrap()
}

/// On PostgreSQL, that these sessions' `bookings` rows were written by
/// fewer transactions than there are rows (their `xmin`): they did share
/// commits. SQLite keeps no such trace.
fn assert_shared_commits(db: Db, app: &TestApp, sessions: &[String], bookings: i64) {
    if db == Db::Postgres {
        let transactions = transactions_of(app, sessions);
        assert!(
            transactions < bookings,
            "{transactions} transactions for {bookings} bookings"
        );
    }
}

/// How many transactions wrote these sessions' bookings (PostgreSQL's xmin).
fn transactions_of(app: &TestApp, sessions: &[String]) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.pool.get().unwrap();
    let madoguchi::db::DbConnection::Pg(pg) = &mut *conn else {
        panic!("xmin is PostgreSQL's");
    };
    diesel::sql_query(
        "SELECT count(DISTINCT xmin::text)::bigint AS n FROM bookings WHERE session_id = ANY($1)",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(sessions)
    .get_result::<N>(pg)
    .unwrap()
    .n
}

async fn bookings_sent_together_are_each_answered_after_their_commit(db: Db) {
    let app = app_with_window(db).await;
    let session = app.session_ok(10, json!({})).await;
    let residents = app.residents_ok(30).await;
    let answers = futures::future::join_all(residents.iter().map(|r| {
        let (app, session) = (&app, &session);
        async move {
            let (status, body) =
                book(app, session, json!({"resident_id": r, "channel": "phone"})).await;
            // Read from another connection the moment the answer arrives:
            // an answer sent before its commit would find nothing.
            let seen = body["id"].as_str().is_some_and(|id| committed(app, id));
            (status, body, seen)
        }
    }))
    .await;
    for (status, body, seen) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert!(seen, "answered before its commit: {body}");
    }
    let status_of = |s: &str| answers.iter().filter(|(_, b, _)| b["status"] == s).count();
    assert_eq!((status_of("confirmed"), status_of("waitlisted")), (10, 20));
    let mut positions: Vec<i64> = answers
        .iter()
        .filter_map(|(_, b, _)| b["waitlist_position"].as_i64())
        .collect();
    positions.sort();
    assert_eq!(positions, (1..=20).collect::<Vec<_>>());
    assert_eq!(counters(&app, &session), (10, 20));
    assert_eq!(
        (
            rows_by_status(&app, &session, "confirmed"),
            rows_by_status(&app, &session, "waitlisted")
        ),
        (10, 20)
    );
    assert_shared_commits(db, &app, std::slice::from_ref(&session), 30);
}

async fn one_bad_booking_in_a_group_fails_alone(db: Db) {
    let app = app_with_window(db).await;
    let session = app.session_ok(20, json!({})).await;
    let residents = app.residents_ok(10).await;
    let audit_before = app.audit_count();
    // Eight plain bookings, the ninth resident twice (one is a duplicate),
    // and the tenth asking for a loaner the venue does not have.
    let mut bodies: Vec<Value> = residents[..9]
        .iter()
        .map(|r| json!({"resident_id": r, "channel": "phone"}))
        .collect();
    bodies.push(json!({"resident_id": residents[8], "channel": "counter"}));
    bodies.push(json!({"resident_id": residents[9], "channel": "phone", "needs_loaner": true}));
    let answers =
        futures::future::join_all(bodies.iter().map(|b| book(&app, &session, b.clone()))).await;

    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(created.len(), 9, "{answers:?}");
    assert!(created.iter().all(|b| b["status"] == "confirmed"));
    let refused: Vec<(u16, &str)> = answers
        .iter()
        .filter(|(s, _)| *s != 201)
        .map(|(s, b)| (*s, b["code"].as_str().unwrap_or("")))
        .collect();
    let mut refused = refused;
    refused.sort();
    assert_eq!(
        refused,
        vec![(409, "already_booked"), (409, "no_loaner_available")],
        "{answers:?}"
    );
    // Nothing of the two refused ones was kept; everything else was.
    assert_eq!(counters(&app, &session), (9, 0));
    assert_eq!(rows_by_status(&app, &session, "confirmed"), 9);
    assert_eq!(app.audit_count(), audit_before + 9);
    let mut conn = app.pool.get().unwrap();
    let for_tenth: i64 = bookings::table
        .filter(bookings::resident_id.eq(&residents[9]))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(for_tenth, 0);
}

async fn a_group_mixes_plain_bookings_with_loaners_and_mail(db: Db) {
    let app = app_with_window(db).await;
    // 100 yen a seat, 200 more with a loaner; one device at the venue.
    let session = app.session_ok(20, json!({})).await;
    app.loaner_device(&app.venue_of(&session).await, "KITA-001")
        .await;
    let mut bodies: Vec<Value> = app
        .residents_ok(6)
        .await
        .iter()
        .map(|r| json!({"resident_id": r, "channel": "phone"}))
        .collect();
    let lender = app.resident_ok("鈴木", "一郎", "すずき").await;
    bodies.push(json!({"resident_id": lender, "channel": "phone", "needs_loaner": true}));
    let writer = crate::mail::resident(&app, "花子", "email", "hanako@kita.example").await;
    bodies.push(json!({"resident_id": writer, "channel": "phone"}));
    let audit_before = app.audit_count();
    let answers =
        futures::future::join_all(bodies.iter().map(|b| book(&app, &session, b.clone()))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body["status"], "confirmed");
    }
    let loaners: Vec<&str> = answers
        .iter()
        .map(|(_, b)| b["loaner"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        loaners.iter().filter(|l| **l == "reserved").count(),
        1,
        "{loaners:?}"
    );
    assert_eq!(answers[6].1["loaner"], "reserved");
    assert_eq!(answers[6].1["fee_due"], 300);
    assert_eq!(counters(&app, &session), (8, 0));
    assert_eq!(rows_by_status(&app, &session, "confirmed"), 8);
    assert_eq!(app.audit_count(), audit_before + 8);
    let mailed = answers[7].1["id"].as_str().unwrap().to_owned();
    let mut conn = app.pool.get().unwrap();
    let letters: i64 = outbox_messages::table
        .filter(outbox_messages::booking_id.eq(&mailed))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(letters, 1);
    assert_shared_commits(db, &app, std::slice::from_ref(&session), 8);
}

async fn bookings_of_several_sessions_share_a_commit_and_each_keeps_its_order(db: Db) {
    let app = app_with_window(db).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(app.session_ok(2, json!({})).await);
    }
    let residents = app.residents_ok(12).await;
    let answers = futures::future::join_all(residents.iter().enumerate().map(|(i, r)| {
        let session = &sessions[i % 3];
        let app = &app;
        async move {
            (
                session.clone(),
                book(app, session, json!({"resident_id": r, "channel": "phone"})).await,
            )
        }
    }))
    .await;
    for session in &sessions {
        let mine: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| s == session)
            .map(|(_, (status, body))| {
                assert_eq!(*status, 201, "{body}");
                body
            })
            .collect();
        let confirmed = mine.iter().filter(|b| b["status"] == "confirmed").count();
        let mut positions: Vec<i64> = mine
            .iter()
            .filter_map(|b| b["waitlist_position"].as_i64())
            .collect();
        positions.sort();
        assert_eq!((confirmed, positions), (2, vec![1, 2]));
        assert_eq!(counters(&app, session), (2, 2));
        assert_eq!(rows_by_status(&app, session, "waitlisted"), 2);
    }
    assert_shared_commits(db, &app, &sessions, 12);
}

/// A group's places are counted together under the sessions' locks
/// (`lock_counters`): a waitlist continues from where it stood and a
/// lottery before its draw takes applications, not seats, in the same
/// commit; a full session without a waitlist refuses its extra booking
/// alone.
async fn a_group_counts_places_from_where_each_session_stood(db: Db) {
    let app = app_with_window(db).await;
    let in_days = |d: i64| (chrono::Utc::now() + chrono::Duration::days(d)).to_rfc3339();
    let waiting = app.session_ok(2, json!({})).await;
    let lottery = app
        .session_ok(
            2,
            json!({"allocation": "lottery", "applications_close_at": in_days(2), "draw_at": in_days(3)}),
        )
        .await;
    let small = app.session_ok(1, json!({"waitlist_enabled": false})).await;
    let residents = app.residents_ok(10).await;
    // Before the group: `waiting` full, one on its waitlist.
    for r in &residents[..3] {
        let (status, body) = book(
            &app,
            &waiting,
            json!({"resident_id": r, "channel": "phone"}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(counters(&app, &waiting), (2, 1));
    let sent: Vec<(&String, &String)> = residents[3..6]
        .iter()
        .map(|r| (&waiting, r))
        .chain(residents[6..8].iter().map(|r| (&lottery, r)))
        .collect();
    let answers =
        futures::future::join_all(sent.iter().map(|(session, r)| {
            book(&app, session, json!({"resident_id": r, "channel": "phone"}))
        }))
        .await;

    let mut positions: Vec<i64> = answers[..3]
        .iter()
        .map(|(status, b)| {
            assert_eq!(
                (*status, b["status"].as_str()),
                (201, Some("waitlisted")),
                "{b}"
            );
            b["waitlist_position"].as_i64().unwrap()
        })
        .collect();
    positions.sort();
    assert_eq!(positions, vec![2, 3, 4]);
    assert_eq!(counters(&app, &waiting), (2, 4));
    let mut seqs: Vec<Option<i32>> = {
        let mut conn = app.pool.get().unwrap();
        bookings::table
            .filter(bookings::session_id.eq(&waiting))
            .filter(bookings::status.eq("waitlisted"))
            .select(bookings::waitlist_seq)
            .load(&mut *conn)
            .unwrap()
    };
    seqs.sort();
    assert_eq!(
        seqs,
        vec![Some(1), Some(2), Some(3), Some(4)],
        "no gap, no repeat"
    );
    for (status, b) in &answers[3..] {
        assert_eq!(
            (*status, b["status"].as_str()),
            (201, Some("applied")),
            "{b}"
        );
    }
    assert_eq!(counters(&app, &lottery), (0, 0));
    assert_eq!(rows_by_status(&app, &lottery, "applied"), 2);
    // 3 bookings alone before, then 5 sharing commits.
    assert_shared_commits(db, &app, &[waiting, lottery], 8);

    // One seat, no waitlist, two asking together: one is booked, the other
    // refused as it would be alone.
    let answers = futures::future::join_all(
        residents[8..]
            .iter()
            .map(|r| book(&app, &small, json!({"resident_id": r, "channel": "phone"}))),
    )
    .await;
    let mut outcomes: Vec<(u16, String)> = answers
        .iter()
        .map(|(s, b)| {
            (
                *s,
                b["status"]
                    .as_str()
                    .or(b["code"].as_str())
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![
            (201, "confirmed".to_owned()),
            (409, "session_full".to_owned())
        ]
    );
    assert_eq!(counters(&app, &small), (1, 0));
    assert_eq!(rows_by_status(&app, &small, "confirmed"), 1);
}

db_tests!(
    bookings_sent_together_are_each_answered_after_their_commit,
    one_bad_booking_in_a_group_fails_alone,
    a_group_mixes_plain_bookings_with_loaners_and_mail,
    bookings_of_several_sessions_share_a_commit_and_each_keeps_its_order,
    a_group_counts_places_from_where_each_session_stood,
);
