//! Booking by staff: seats, waitlist, cancellations, idempotency,
//! walk-ins, attendance — and the seat invariants under parallel requests.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use diesel::prelude::*;
use madoguchi::db::schema::{booking_events, bookings};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, Db, TestApp, assert_problem, db_tests, seed_organisation, spawn_app,
};

async fn get_session(app: &TestApp, id: &str) -> Value {
    app.get_ok(&format!("/api/v1/sessions/{id}"), &app.admin_token)
        .await
}

fn confirmed_count(app: &TestApp, session: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    bookings::table
        .filter(bookings::session_id.eq(session))
        .filter(bookings::status.eq("confirmed"))
        .count()
        .get_result(&mut *conn)
        .unwrap()
}

async fn a_coordinator_books_a_resident_and_reads_them_a_reference(db: Db) {
    let app = spawn_app(db).await;
    let (coordinator, token) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let s = app.session_ok(20, json!({})).await;
    let r = app.residents_ok(1).await;
    let res = app
        .post(&format!("/api/v1/sessions/{s}/bookings"), &token, &json!({"resident_id": r[0], "channel": "phone", "needs_loaner": true, "if_no_loaner": "waitlist", "notes": "スマホなし"}))
        .await;
    assert_eq!(res.status(), 201);
    let booking: Value = res.json().await.unwrap();
    assert_eq!(booking["status"], "confirmed");
    assert_eq!(booking["channel"], "phone");
    assert_eq!(booking["entered_by"], coordinator["id"]);
    assert_eq!(
        booking["fee_due"], 100,
        "class 100; the loaner fee only once a device is reserved"
    );
    assert_eq!(booking["fee_breakdown"][1]["yen"], 200);
    assert_eq!(booking["fee_breakdown"][1]["due"], false);
    assert_eq!(
        booking["loaner"], "waitlisted",
        "the venue has no devices: the request waits for one"
    );
    let reference = booking["reference"].as_str().unwrap();
    assert_eq!(reference.len(), 6);
    assert!(
        reference
            .chars()
            .all(|c| "ABCDEFGHJKMNPQRSTUVWXYZ23456789".contains(c))
    );
    assert_eq!(get_session(&app, &s).await["seats_taken"], 1);

    // Read back over the phone, typed in lower case with a hyphen.
    let typed = format!("{}-{}", &reference[..3].to_lowercase(), &reference[3..]);
    let found = app
        .get_ok(&format!("/api/v1/bookings?reference={typed}"), &token)
        .await;
    assert_eq!(found["items"][0]["id"], booking["id"]);
    let history = app
        .get_ok(&format!("/api/v1/residents/{}/bookings", r[0]), &token)
        .await;
    assert_eq!(history.as_array().unwrap().len(), 1);

    let before = app.audit_count();
    assert_problem(app.book(&s, &r[0]).await, 409, "already_booked").await;
    assert_eq!(app.audit_count(), before);
    assert_eq!(
        get_session(&app, &s).await["seats_taken"],
        1,
        "nothing taken twice"
    );
}

async fn a_full_session_puts_the_resident_on_the_waitlist(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(2, json!({})).await;
    let r = app.residents_ok(4).await;
    for id in &r[..2] {
        assert_eq!(app.book(&s, id).await.status(), 201);
    }
    let third: Value = app.book(&s, &r[2]).await.json().await.unwrap();
    assert_eq!(third["status"], "waitlisted");
    assert_eq!(third["waitlist_position"], 1);
    let fourth: Value = app.book(&s, &r[3]).await.json().await.unwrap();
    assert_eq!(fourth["waitlist_position"], 2);
    let view = get_session(&app, &s).await;
    assert_eq!(
        (
            view["seats_taken"].as_i64(),
            view["seats_left"].as_i64(),
            view["waitlist_count"].as_i64()
        ),
        (Some(2), Some(0), Some(2))
    );
    let roster = app
        .get_ok(&format!("/api/v1/sessions/{s}/roster"), &app.admin_token)
        .await;
    assert_eq!(roster["confirmed"].as_array().unwrap().len(), 2);
    assert_eq!(roster["waitlisted"][0]["id"], third["id"]);
    assert_eq!(roster["waitlisted"][1]["waitlist_position"], 2);
    let listed = app
        .get_ok(
            &format!("/api/v1/bookings?session_id={s}&status=waitlisted"),
            &app.admin_token,
        )
        .await;
    let positions: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["waitlist_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2], "lists show positions too");

    // Without a waitlist a full session refuses.
    let closed = app.session_ok(1, json!({"waitlist_enabled": false})).await;
    assert_eq!(app.book(&closed, &r[0]).await.status(), 201);
    assert_problem(app.book(&closed, &r[1]).await, 409, "session_full").await;
}

async fn cancelling_frees_the_seat_for_the_first_on_the_waitlist(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(1, json!({})).await;
    let r = app.residents_ok(3).await;
    let first: Value = app.book(&s, &r[0]).await.json().await.unwrap();
    let second: Value = app.book(&s, &r[1]).await.json().await.unwrap();
    let third: Value = app.book(&s, &r[2]).await.json().await.unwrap();
    let id = first["id"].as_str().unwrap();
    let res = app
        .post_ok(
            &format!("/api/v1/bookings/{id}/cancel"),
            &app.admin_token,
            &json!({"reason": "体調不良"}),
            200,
        )
        .await;
    assert_eq!(res["booking"]["status"], "cancelled");
    assert_eq!(res["booking"]["cancel_reason"], "体調不良");
    assert_eq!(res["promoted"]["id"], second["id"]);
    assert_eq!(res["promoted"]["status"], "confirmed");
    let third_now = app
        .get_ok(
            &format!("/api/v1/bookings/{}", third["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await;
    assert_eq!(third_now["waitlist_position"], 1, "moved up");
    let view = get_session(&app, &s).await;
    assert_eq!(
        (
            view["seats_taken"].as_i64(),
            view["waitlist_count"].as_i64()
        ),
        (Some(1), Some(1))
    );
    {
        let mut conn = app.pool.get().unwrap();
        let kinds: Vec<String> = booking_events::table
            .filter(booking_events::booking_id.eq(second["id"].as_str().unwrap()))
            .select(booking_events::kind)
            .load(&mut *conn)
            .unwrap();
        assert_eq!(
            kinds,
            ["promoted"],
            "the promotion waits for the mail outbox"
        );
    }
    let res = app
        .post(
            &format!("/api/v1/bookings/{id}/cancel"),
            &app.admin_token,
            &json!({"reason": "again"}),
        )
        .await;
    assert_problem(res, 409, "invalid_transition").await;
    // A waitlisted cancellation frees no seat.
    let res = app
        .post_ok(
            &format!("/api/v1/bookings/{}/cancel", third["id"].as_str().unwrap()),
            &app.admin_token,
            &json!({"reason": "不要"}),
            200,
        )
        .await;
    assert_eq!(res["promoted"], Value::Null);
    let view = get_session(&app, &s).await;
    assert_eq!(
        (
            view["seats_taken"].as_i64(),
            view["waitlist_count"].as_i64()
        ),
        (Some(1), Some(0))
    );
}

async fn cancelling_a_session_cancels_its_bookings_and_lists_whom_to_call(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(1, json!({})).await;
    let r = app.residents_ok(2).await;
    app.book(&s, &r[0]).await;
    app.book(&s, &r[1]).await;
    let res = app
        .post_ok(
            &format!("/api/v1/sessions/{s}/cancel"),
            &app.admin_token,
            &json!({"reason": "台風"}),
            200,
        )
        .await;
    let calls = res["residents_to_call"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    let was: HashSet<&str> = calls.iter().map(|c| c["was"].as_str().unwrap()).collect();
    assert_eq!(was, HashSet::from(["confirmed", "waitlisted"]));
    let roster = app
        .get_ok(&format!("/api/v1/sessions/{s}/roster"), &app.admin_token)
        .await;
    assert_eq!(roster["cancelled"].as_array().unwrap().len(), 2);
    assert_eq!(roster["seats_taken"], 0);
    assert_problem(app.book(&s, &r[0]).await, 409, "session_not_bookable").await;
}

async fn the_booking_window_is_enforced_unless_overridden_with_a_reason(db: Db) {
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    let far = app
        .post_ok("/api/v1/sessions", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "date": Utc::now().date_naive() + Duration::days(60), "start_time": "10:00", "booking_opens_days_before": 7}), 201)
        .await;
    let id = far["id"].as_str().unwrap();
    let r = app.residents_ok(1).await;
    assert_problem(app.book(id, &r[0]).await, 409, "booking_not_open").await;
    let res = app
        .post(&format!("/api/v1/sessions/{id}/bookings"), &app.admin_token, &json!({"resident_id": r[0], "channel": "counter", "override_window_reason": "民生委員からの依頼"}))
        .await;
    assert_eq!(res.status(), 201);
    let booking: Value = res.json().await.unwrap();
    assert_eq!(booking["window_override_reason"], "民生委員からの依頼");
    let soon = app
        .post_ok("/api/v1/sessions", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "date": Utc::now().date_naive() + Duration::days(2), "start_time": "10:00", "booking_closes_minutes_before": 7 * 24 * 60}), 201)
        .await;
    assert_problem(
        app.book(soon["id"].as_str().unwrap(), &r[0]).await,
        409,
        "booking_closed",
    )
    .await;
}

async fn bad_bookings_are_refused_and_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(5, json!({})).await;
    let r = app.residents_ok(1).await;
    let before = app.audit_count();
    for (body, status, code) in [
        (
            json!({"resident_id": uuid::Uuid::now_v7(), "channel": "phone"}),
            422,
            "validation_failed",
        ),
        (
            json!({"resident_id": r[0], "channel": "carrier_pigeon"}),
            422,
            "validation_failed",
        ),
        (
            json!({"resident_id": "not-a-uuid", "channel": "phone"}),
            422,
            "validation_failed",
        ),
        (json!({"channel": "phone"}), 422, "validation_failed"),
    ] {
        let res = app
            .post(
                &format!("/api/v1/sessions/{s}/bookings"),
                &app.admin_token,
                &body,
            )
            .await;
        assert_problem(res, status, code).await;
    }
    let res = app
        .post(
            &format!("/api/v1/sessions/{}/bookings", uuid::Uuid::now_v7()),
            &app.admin_token,
            &json!({"resident_id": r[0], "channel": "phone"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let (_, vol) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let res = app
        .post(
            &format!("/api/v1/sessions/{s}/bookings"),
            &vol,
            &json!({"resident_id": r[0], "channel": "phone"}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    assert_eq!(get_session(&app, &s).await["seats_taken"], 0);
    assert_eq!(
        app.audit_count(),
        before + 1,
        "only the volunteer's account creation was written"
    );

    // Another organisation can neither book Kita's sessions nor see its bookings.
    let booked: Value = app.book(&s, &r[0]).await.json().await.unwrap();
    let (_, minami) = seed_organisation(&app.pool, "Minami", "admin@minami.example");
    let token = app.login_ok(&minami, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post(
            &format!("/api/v1/sessions/{s}/bookings"),
            &token,
            &json!({"resident_id": r[0], "channel": "phone"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let id = booked["id"].as_str().unwrap();
    assert_problem(
        app.get(&format!("/api/v1/bookings/{id}"), &token).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/bookings/{id}/cancel"),
            &token,
            &json!({"reason": "x"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let reference = booked["reference"].as_str().unwrap();
    assert_eq!(
        app.get_ok(&format!("/api/v1/bookings?reference={reference}"), &token)
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_problem(
        app.get(&format!("/api/v1/sessions/{s}/roster"), &token)
            .await,
        404,
        "not_found",
    )
    .await;
}

async fn a_retried_booking_with_one_idempotency_key_books_once(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(5, json!({})).await;
    let r = app.residents_ok(2).await;
    let send = |resident: &str| {
        app.client
            .post(app.url(&format!("/api/v1/sessions/{s}/bookings")))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", "call-2026-11-27-0915")
            .json(&json!({"resident_id": resident, "channel": "phone"}))
            .send()
    };
    let first: Value = send(&r[0]).await.unwrap().json().await.unwrap();
    let res = send(&r[0]).await.unwrap();
    assert_eq!(res.status(), 201, "the first answer again");
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["reference"], first["reference"]);
    assert_eq!(confirmed_count(&app, &s), 1);
    let res = send(&r[1]).await.unwrap();
    assert_problem(res, 422, "idempotency_key_reused").await;
    assert_eq!(confirmed_count(&app, &s), 1);
}

async fn fifty_parallel_retries_with_one_key_create_one_booking(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(5, json!({})).await;
    let r = app.residents_ok(1).await;
    let body = json!({"resident_id": r[0], "channel": "phone"});
    let requests = (0..50).map(|_| {
        app.client
            .post(app.url(&format!("/api/v1/sessions/{s}/bookings")))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", "double-click")
            .json(&body)
            .send()
    });
    let answers = futures::future::join_all(requests).await;
    let mut ids = HashSet::new();
    for res in answers {
        let res = res.unwrap();
        assert_eq!(res.status(), 201);
        ids.insert(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(ids.len(), 1, "every retry answers the same booking");
    assert_eq!(confirmed_count(&app, &s), 1);
    assert_eq!(get_session(&app, &s).await["seats_taken"], 1);
}

async fn two_hundred_parallel_bookings_never_put_a_21st_person_in_the_room(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(20, json!({})).await;
    let r = app.residents_ok(200).await;
    let answers = futures::future::join_all(r.iter().map(|id| app.book(&s, id))).await;
    let mut positions = Vec::new();
    let mut confirmed = 0;
    for res in answers {
        assert_eq!(res.status(), 201);
        let b: Value = res.json().await.unwrap();
        match b["status"].as_str().unwrap() {
            "confirmed" => confirmed += 1,
            "waitlisted" => positions.push(b["waitlist_position"].as_i64().unwrap()),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(confirmed, 20);
    positions.sort();
    assert_eq!(
        positions,
        (1..=180).collect::<Vec<_>>(),
        "positions 1..180, no gaps or repeats"
    );
    let view = get_session(&app, &s).await;
    assert_eq!(
        (
            view["seats_taken"].as_i64(),
            view["waitlist_count"].as_i64()
        ),
        (Some(20), Some(180))
    );
    assert_eq!(confirmed_count(&app, &s), 20);
}

async fn parallel_cancellations_and_bookings_keep_the_counter_true(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(10, json!({})).await;
    let r = app.residents_ok(30).await;
    let mut booked = Vec::new();
    for id in &r[..15] {
        let b: Value = app.book(&s, id).await.json().await.unwrap();
        booked.push(b["id"].as_str().unwrap().to_owned());
    }
    let reason = json!({"reason": "都合"});
    let paths: Vec<String> = booked[..8]
        .iter()
        .map(|id| format!("/api/v1/bookings/{id}/cancel"))
        .collect();
    let cancels = paths
        .iter()
        .map(|path| app.post(path, &app.admin_token, &reason));
    let bookings_ = r[15..].iter().map(|id| app.book(&s, id));
    let (c, b) = tokio::join!(
        futures::future::join_all(cancels),
        futures::future::join_all(bookings_)
    );
    assert!(c.iter().all(|res| res.status() == 200));
    assert!(b.iter().all(|res| res.status() == 201));
    let view = get_session(&app, &s).await;
    let roster = app
        .get_ok(&format!("/api/v1/sessions/{s}/roster"), &app.admin_token)
        .await;
    let confirmed = roster["confirmed"].as_array().unwrap().len() as i64;
    let waitlisted = roster["waitlisted"].as_array().unwrap().len() as i64;
    assert_eq!(
        view["seats_taken"].as_i64(),
        Some(confirmed),
        "seats_taken equals the confirmed count"
    );
    assert_eq!(view["waitlist_count"].as_i64(), Some(waitlisted));
    assert_eq!(confirmed, 10, "freed seats were refilled from the waitlist");
    assert_eq!(confirmed + waitlisted, 22);
    let positions: Vec<i64> = roster["waitlisted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["waitlist_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, (1..=waitlisted).collect::<Vec<_>>());
}

async fn instructors_take_attendance_add_walk_ins_and_close_their_session(db: Db) {
    let app = spawn_app(db).await;
    let (tanaka, tanaka_token) = app
        .staff_with_token("tanaka@kita.example", "instructor")
        .await;
    let (_, sato_token) = app
        .staff_with_token("sato@kita.example", "instructor")
        .await;
    let s = app
        .session_ok(3, json!({"instructor_ids": [tanaka["id"]]}))
        .await;
    let r = app.residents_ok(4).await;
    let mut ids = Vec::new();
    for id in &r[..3] {
        let b: Value = app.book(&s, id).await.json().await.unwrap();
        ids.push(b["id"].as_str().unwrap().to_owned());
    }
    // The class has started.
    app.set_session_start(&s, Duration::minutes(-10));
    let marks = json!({"marks": [{"booking_id": ids[0], "attendance": "present"}, {"booking_id": ids[1], "attendance": "late"}]});
    let res = app
        .post(
            &format!("/api/v1/sessions/{s}/attendance"),
            &sato_token,
            &marks,
        )
        .await;
    assert_problem(res, 403, "not_your_session").await;
    let done = app
        .post_ok(
            &format!("/api/v1/sessions/{s}/attendance"),
            &tanaka_token,
            &marks,
            200,
        )
        .await;
    assert_eq!(done["marked"], 2);
    let res = app
        .post(
            &format!("/api/v1/sessions/{s}/attendance"),
            &tanaka_token,
            &json!({"marks": [{"booking_id": uuid::Uuid::now_v7(), "attendance": "present"}]}),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "marks[0].booking_id");

    // The session is full: a walk-in needs an explicit over_capacity.
    let walk_in = json!({"resident": {"family_name": "鈴木", "given_name": "一郎", "family_name_kana": "スズキ", "given_name_kana": "イチロウ"}});
    let res = app
        .post(
            &format!("/api/v1/sessions/{s}/walk-ins"),
            &tanaka_token,
            &walk_in,
        )
        .await;
    assert_problem(res, 409, "session_full").await;
    let mut over = walk_in.clone();
    over["over_capacity"] = json!(true);
    let seated = app
        .post_ok(
            &format!("/api/v1/sessions/{s}/walk-ins"),
            &tanaka_token,
            &over,
            201,
        )
        .await;
    assert_eq!(seated["channel"], "walk_in");
    assert_eq!(seated["attendance"], "present");
    assert_eq!(seated["over_capacity"], true);
    assert_eq!(get_session(&app, &s).await["seats_taken"], 4);
    let res = app
        .post(
            &format!("/api/v1/sessions/{s}/walk-ins"),
            &tanaka_token,
            &json!({"resident_id": r[0]}),
        )
        .await;
    assert_problem(res, 409, "already_booked").await;

    assert_problem(
        app.post(
            &format!("/api/v1/sessions/{s}/close"),
            &sato_token,
            &json!({}),
        )
        .await,
        403,
        "not_your_session",
    )
    .await;
    let closed = app
        .post_ok(
            &format!("/api/v1/sessions/{s}/close"),
            &tanaka_token,
            &json!({}),
            200,
        )
        .await;
    assert_eq!(closed["no_shows"], 1);
    assert_eq!(get_session(&app, &s).await["status"], "completed");
    let no_show = app
        .get_ok(&format!("/api/v1/bookings/{}", ids[2]), &app.admin_token)
        .await;
    assert_eq!(no_show["attendance"], "no_show");
    let who = app
        .get_ok(&format!("/api/v1/residents/{}", r[2]), &app.admin_token)
        .await;
    assert_eq!(
        (
            who["attended_count"].as_i64(),
            who["no_show_count"].as_i64()
        ),
        (Some(0), Some(1))
    );
    let who = app
        .get_ok(&format!("/api/v1/residents/{}", r[1]), &app.admin_token)
        .await;
    assert_eq!(who["attended_count"], 1, "late counts as attended");
    assert_problem(
        app.post(
            &format!("/api/v1/sessions/{s}/close"),
            &tanaka_token,
            &json!({}),
        )
        .await,
        409,
        "invalid_state",
    )
    .await;
}

/// Closing a class two months ahead would mark everyone a no-show: it is
/// refused and nothing changes. Attendance opens 30 minutes before the start
/// (people arrive early), and corrections still work after closing.
async fn a_class_cannot_be_closed_before_it_starts_and_attendance_opens_shortly_before(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(5, json!({})).await;
    let r = app.residents_ok(2).await;
    let a = app.book_ok(&s, &r[0]).await;
    app.book_ok(&s, &r[1]).await;
    app.set_session_start(&s, Duration::days(60));
    let audit = app.audit_count();
    let close = format!("/api/v1/sessions/{s}/close");
    assert_problem(
        app.post(&close, &app.admin_token, &json!({})).await,
        409,
        "session_not_started",
    )
    .await;
    let attendance = format!("/api/v1/sessions/{s}/attendance");
    let mark = |how: &str| json!({"marks": [{"booking_id": a["id"], "attendance": how}]});
    let problem = assert_problem(
        app.post(&attendance, &app.admin_token, &mark("present"))
            .await,
        409,
        "attendance_not_open",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("30 minutes"),
        "{problem}"
    );
    let session = get_session(&app, &s).await;
    assert_eq!(session["status"], "scheduled");
    let roster = app
        .get_ok(&format!("/api/v1/sessions/{s}/roster"), &app.admin_token)
        .await;
    assert!(
        roster["confirmed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["attendance"].is_null()),
        "{roster}"
    );
    assert_eq!(app.audit_count(), audit, "nothing was written");

    // Twenty minutes before the start: attendance is open, closing is not.
    app.set_session_start(&s, Duration::minutes(20));
    app.post_ok(&attendance, &app.admin_token, &mark("present"), 200)
        .await;
    assert_problem(
        app.post(&close, &app.admin_token, &json!({})).await,
        409,
        "session_not_started",
    )
    .await;

    // Started: it closes, the unmarked booking is a no-show, and a
    // correction afterwards still works.
    app.set_session_start(&s, Duration::minutes(-5));
    let closed = app.post_ok(&close, &app.admin_token, &json!({}), 200).await;
    assert_eq!(closed["no_shows"], 1);
    app.post_ok(&attendance, &app.admin_token, &mark("late"), 200)
        .await;
    let booking = app
        .get_ok(
            &format!("/api/v1/bookings/{}", a["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await;
    assert_eq!(booking["attendance"], "late");
}

db_tests!(
    a_class_cannot_be_closed_before_it_starts_and_attendance_opens_shortly_before,
    a_coordinator_books_a_resident_and_reads_them_a_reference,
    a_full_session_puts_the_resident_on_the_waitlist,
    cancelling_frees_the_seat_for_the_first_on_the_waitlist,
    cancelling_a_session_cancels_its_bookings_and_lists_whom_to_call,
    the_booking_window_is_enforced_unless_overridden_with_a_reason,
    bad_bookings_are_refused_and_change_nothing,
    a_retried_booking_with_one_idempotency_key_books_once,
    fifty_parallel_retries_with_one_key_create_one_booking,
    two_hundred_parallel_bookings_never_put_a_21st_person_in_the_room,
    parallel_cancellations_and_bookings_keep_the_counter_true,
    instructors_take_attendance_add_walk_ins_and_close_their_session,
);
