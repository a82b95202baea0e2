//! The consultation desk: tickets, the walk-in queue, states, assignment,
//! timeline, search and statistics.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use madoguchi::db::schema::{ticket_messages, tickets};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, Db, TestApp, assert_problem, db_tests, seed_organisation, spawn_app,
};

async fn phone_question(app: &TestApp, token: &str, subject: &str) -> Value {
    app.post_ok(
        "/api/v1/tickets",
        token,
        &json!({"channel": "phone", "category": "photos_printing", "subject": subject, "description": "スマホの写真をコンビニで印刷したい",
                "contact_phone": "090-1111-2222"}),
        201,
    )
    .await
}

async fn transition(app: &TestApp, token: &str, id: &str, to: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/tickets/{id}/transitions"),
        token,
        &json!({"to": to}),
    )
    .await
}

async fn a_ticket_moves_only_along_its_allowed_transitions(db: Db) {
    let app = spawn_app(db).await;
    let (vol, vol_token) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let t = phone_question(&app, &app.admin_token, "写真を印刷したい").await;
    assert_eq!(t["status"], "new");
    assert_eq!(t["requester"]["phone"], "09011112222");
    let id = t["id"].as_str().unwrap();
    assert_problem(
        transition(&app, &app.admin_token, id, "closed").await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        transition(&app, &app.admin_token, id, "triaged")
            .await
            .status(),
        200
    );
    let assigned = app
        .post_ok(
            &format!("/api/v1/tickets/{id}/assign"),
            &app.admin_token,
            &json!({"assignee_id": vol["id"], "note": "写真に詳しい"}),
            200,
        )
        .await;
    assert_eq!(assigned["status"], "assigned");
    for to in [
        "in_progress",
        "waiting_on_resident",
        "in_progress",
        "resolved",
    ] {
        let res = transition(&app, &vol_token, id, to).await;
        assert_eq!(res.status(), 200, "→ {to}");
    }
    let reopened: Value = transition(&app, &vol_token, id, "in_progress")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        reopened["resolved_at"],
        Value::Null,
        "reopening clears the resolution"
    );
    transition(&app, &vol_token, id, "resolved").await;
    let closed: Value = transition(&app, &app.admin_token, id, "closed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "closed");
    assert!(closed["first_response_at"].is_string());
    let kinds: Vec<&str> = closed["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created", "status", "assigned", "status", "status", "status", "status", "status",
            "status", "status"
        ]
    );
    assert_problem(
        transition(&app, &app.admin_token, id, "in_progress").await,
        409,
        "invalid_transition",
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/tickets/{id}/transitions"),
            &app.admin_token,
            &json!({"to": "done"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let spam = phone_question(&app, &app.admin_token, "迷惑電話").await;
    let cancelled: Value = transition(
        &app,
        &app.admin_token,
        spam["id"].as_str().unwrap(),
        "cancelled",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(cancelled["status"], "cancelled");
}

async fn walk_ins_get_unique_numbers_of_the_day_and_a_queue_board(db: Db) {
    let app = spawn_app(db).await;
    let (venue, _) = app.venue_and_course().await;
    let body = json!({"channel": "face_to_face", "category": "smartphone", "subject": "LINEが動かない", "venue_id": venue, "device": "iPhone", "os": "iOS 18"});
    let answers = futures::future::join_all(
        (0..20).map(|_| app.post("/api/v1/tickets", &app.admin_token, &body)),
    )
    .await;
    let mut numbers = Vec::new();
    let mut ids = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 201);
        let t: Value = res.json().await.unwrap();
        numbers.push(t["queue_number"].as_i64().unwrap());
        ids.push((
            t["queue_number"].as_i64().unwrap(),
            t["id"].as_str().unwrap().to_owned(),
        ));
    }
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=20).collect::<Vec<_>>(),
        "never duplicated under parallel requests"
    );
    ids.sort();
    let first = &ids[0].1;
    app.post_ok(
        &format!("/api/v1/tickets/{first}/call"),
        &app.admin_token,
        &json!({}),
        200,
    )
    .await;
    let second = &ids[1].1;
    transition(&app, &app.admin_token, second, "triaged").await;
    let (coord, _) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    app.post_ok(
        &format!("/api/v1/tickets/{second}/assign"),
        &app.admin_token,
        &json!({"assignee_id": coord["id"]}),
        200,
    )
    .await;
    transition(&app, &app.admin_token, second, "in_progress").await;
    let board = app
        .get_ok(&format!("/api/v1/venues/{venue}/queue"), &app.admin_token)
        .await;
    assert_eq!(board["called"][0]["queue_number"], 1);
    assert_eq!(board["serving"][0]["queue_number"], 2);
    let waiting: Vec<i64> = board["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["queue_number"].as_i64().unwrap())
        .collect();
    assert_eq!(waiting, (3..=20).collect::<Vec<_>>(), "in order");
    let res = app
        .post(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"channel": "face_to_face", "category": "pc", "subject": "x"}),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "venue_id");
}

async fn a_question_answered_on_the_spot_is_one_request_and_still_counts(db: Db) {
    let app = spawn_app(db).await;
    let before = Utc::now() - Duration::minutes(1);
    let t = app
        .post_ok(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"channel": "phone", "category": "internet_email", "subject": "メールに写真を添付したい", "resolved_with": "クリップのマークから写真を選ぶと添付できます"}),
            201,
        )
        .await;
    assert_eq!(t["status"], "resolved");
    assert!(t["resolved_at"].is_string() && t["first_response_at"].is_string());
    let detail = app
        .get_ok(
            &format!("/api/v1/tickets/{}", t["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await;
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reply")
    );
    phone_question(&app, &app.admin_token, "写真の印刷").await;
    let after = Utc::now() + Duration::minutes(1);
    let range = format!(
        "from={}&to={}",
        before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let stats = app
        .get_ok(&format!("/api/v1/tickets/stats?{range}"), &app.admin_token)
        .await;
    assert_eq!(stats["total"], 2);
    assert_eq!(stats["by_status"]["resolved"], 1);
    assert_eq!(stats["by_channel"]["phone"], 2);
    assert_eq!(stats["by_category"]["internet_email"], 1);
    assert_eq!(stats["median_resolution_minutes"], 0.0);
    let res = app
        .get(
            &format!("/api/v1/tickets/stats?{range}&format=csv"),
            &app.admin_token,
        )
        .await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = String::from_utf8(res.bytes().await.unwrap().to_vec()).unwrap();
    assert!(csv.starts_with("\u{feff}dimension,value,count\r\n"));
    assert!(csv.contains("channel,phone,2\r\n"));
    let counts = app.get_ok("/api/v1/tickets/counts", &app.admin_token).await;
    assert_eq!(
        (
            counts["new"].as_i64(),
            counts["resolved"].as_i64(),
            counts["closed"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
}

async fn volunteers_work_their_own_queue_and_the_unassigned_one(db: Db) {
    let app = spawn_app(db).await;
    let (vol, vol_token) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let (other, _) = app
        .staff_with_token("other@kita.example", "volunteer")
        .await;
    let unassigned = phone_question(&app, &app.admin_token, "未割当").await;
    let theirs = phone_question(&app, &app.admin_token, "他の人の").await;
    let theirs_id = theirs["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/tickets/{theirs_id}/assign"),
        &app.admin_token,
        &json!({"assignee_id": other["id"]}),
        200,
    )
    .await;
    let seen = app.get_ok("/api/v1/tickets", &vol_token).await;
    let subjects: Vec<&str> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["未割当"]);
    assert_problem(
        app.get(&format!("/api/v1/tickets/{theirs_id}"), &vol_token)
            .await,
        404,
        "not_found",
    )
    .await;
    let id = unassigned["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/tickets/{id}/assign"),
            &vol_token,
            &json!({"assignee_id": other["id"]}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let taken = app
        .post_ok(
            &format!("/api/v1/tickets/{id}/assign"),
            &vol_token,
            &json!({"assignee_id": vol["id"]}),
            200,
        )
        .await;
    assert_eq!(taken["assignee_id"], vol["id"]);
    let mine = app.get_ok("/api/v1/tickets?queue=mine", &vol_token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    // Reassignment by a coordinator, with a note on the timeline.
    let moved = app
        .post_ok(
            &format!("/api/v1/tickets/{id}/assign"),
            &app.admin_token,
            &json!({"assignee_id": other["id"], "note": "担当交代"}),
            200,
        )
        .await;
    assert!(
        moved["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["body"].as_str().is_some_and(|b| b.contains("担当交代")))
    );
}

async fn replies_to_email_requesters_wait_for_the_mail_outbox(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .post(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"channel": "email", "category": "pc", "subject": "Wordが開かない"}),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "contact_email");
    let t = app
        .post_ok("/api/v1/tickets", &app.admin_token, &json!({"channel": "email", "category": "office_software", "subject": "Wordが開かない", "contact_email": "suzuki@example.jp"}), 201)
        .await;
    let id = t["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/tickets/{id}/notes"),
        &app.admin_token,
        &json!({"body": "前回も同じ症状"}),
        201,
    )
    .await;
    let replied = app
        .post_ok(
            &format!("/api/v1/tickets/{id}/notes"),
            &app.admin_token,
            &json!({"body": "再起動をお試しください", "kind": "reply"}),
            201,
        )
        .await;
    assert!(
        replied["first_response_at"].is_string(),
        "the first reply is the first response"
    );
    let kinds: Vec<&str> = replied["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "note", "reply"]);
    let mut conn = app.pool.get().unwrap();
    let queued: Vec<(String, String)> = ticket_messages::table
        .select((ticket_messages::to_email, ticket_messages::body))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(
        queued,
        [(
            "suzuki@example.jp".to_owned(),
            "再起動をお試しください".to_owned()
        )],
        "only the reply is mailed"
    );
    let res = app
        .post(
            &format!("/api/v1/tickets/{id}/notes"),
            &app.admin_token,
            &json!({"body": "x", "kind": "shout"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

async fn tickets_are_found_by_japanese_words_and_filters(db: Db) {
    let app = spawn_app(db).await;
    phone_question(&app, &app.admin_token, "写真を印刷したい").await;
    app.post_ok("/api/v1/tickets", &app.admin_token, &json!({"channel": "fax", "category": "online_government", "subject": "マイナポータルにログインできない", "priority": "high"}), 201)
        .await;
    let found = app
        .get_ok(
            &format!("/api/v1/tickets?q={}", crate::residents::urlencode("印刷")),
            &app.admin_token,
        )
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let found = app
        .get_ok(
            &format!(
                "/api/v1/tickets?q={}",
                crate::residents::urlencode("コンビニ")
            ),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        found["items"].as_array().unwrap().len(),
        1,
        "the description is searched too"
    );
    let high = app
        .get_ok(
            "/api/v1/tickets?priority=high&channel=fax",
            &app.admin_token,
        )
        .await;
    assert_eq!(high["items"][0]["category"], "online_government");
    let res = app
        .post(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"channel": "pigeon", "category": "pc", "subject": "x"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let res = app
        .post(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"channel": "phone", "category": "astrology", "subject": "x"}),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "category");
    app.post_ok(
        "/api/v1/ticket-categories",
        &app.admin_token,
        &json!({"code": "hearing_aid", "label": "補聴器アプリ"}),
        201,
    )
    .await;
    app.post_ok(
        "/api/v1/tickets",
        &app.admin_token,
        &json!({"channel": "phone", "category": "hearing_aid", "subject": "x"}),
        201,
    )
    .await;
}

async fn resolved_tickets_close_by_themselves_and_stay_in_their_organisation(db: Db) {
    let app = spawn_app(db).await;
    let t = app
        .post_ok("/api/v1/tickets", &app.admin_token, &json!({"channel": "phone", "category": "pc", "subject": "電源が入らない", "resolved_with": "コンセントを確認"}), 201)
        .await;
    let id = t["id"].as_str().unwrap().to_owned();
    {
        let mut conn = app.pool.get().unwrap();
        diesel::update(tickets::table.filter(tickets::id.eq(&id)))
            .set(tickets::resolved_at.eq(Utc::now().naive_utc() - Duration::days(8)))
            .execute(&mut *conn)
            .unwrap();
        let closed =
            madoguchi::tickets::jobs::close_resolved_tickets(&mut conn, 7, "test").unwrap();
        assert_eq!(closed, Some(1));
    }
    let now = app
        .get_ok(&format!("/api/v1/tickets/{id}"), &app.admin_token)
        .await;
    assert_eq!(now["status"], "closed");
    let (_, minami) = seed_organisation(&app.pool, "Minami", "admin@minami.example");
    let token = app.login_ok(&minami, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.get(&format!("/api/v1/tickets/{id}"), &token).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        transition(&app, &token, &id, "in_progress").await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get_ok("/api/v1/tickets", &token).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

async fn service_levels_run_in_business_hours_and_pause_while_waiting(db: Db) {
    let app = spawn_app(db).await;
    let hours = app
        .get_ok("/api/v1/organisation/opening-hours", &app.admin_token)
        .await;
    assert_eq!(
        hours.as_array().unwrap().len(),
        5,
        "Monday–Friday by default"
    );
    let res = app
        .client
        .put(app.url("/api/v1/organisation/opening-hours"))
        .bearer_auth(&app.admin_token)
        .json(&json!([{"weekday": "monday", "opens": "10:00", "closes": "09:00"}, {"weekday": "funday", "opens": "09:00", "closes": "17:00"}]))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    let week: Vec<Value> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| json!({"weekday": d, "opens": "00:00", "closes": "23:59"}))
    .collect();
    let res = app
        .client
        .put(app.url("/api/v1/organisation/opening-hours"))
        .bearer_auth(&app.admin_token)
        .json(&week)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let fresh = phone_question(&app, &app.admin_token, "新しい質問").await;
    let sla = &fresh["sla"];
    assert_eq!(sla["first_response_target_minutes"], 240);
    assert_eq!(
        (sla["overdue"].as_bool(), sla["paused"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(sla["first_response_due_at"].is_string() && sla["resolution_due_at"].is_string());

    let old = phone_question(&app, &app.admin_token, "古い質問").await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    {
        let mut conn = app.pool.get().unwrap();
        diesel::update(tickets::table.filter(tickets::id.eq(&old_id)))
            .set(tickets::received_at.eq(Utc::now().naive_utc() - Duration::days(30)))
            .execute(&mut *conn)
            .unwrap();
    }
    let overdue = app
        .get_ok("/api/v1/tickets?sla=overdue", &app.admin_token)
        .await;
    let ids: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [old_id.as_str()]);
    assert_problem(
        app.get("/api/v1/tickets?sla=late", &app.admin_token).await,
        422,
        "validation_failed",
    )
    .await;

    // Waiting on the resident pauses the resolution clock.
    let id = fresh["id"].as_str().unwrap();
    let (coord, _) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    transition(&app, &app.admin_token, id, "triaged").await;
    app.post_ok(
        &format!("/api/v1/tickets/{id}/assign"),
        &app.admin_token,
        &json!({"assignee_id": coord["id"]}),
        200,
    )
    .await;
    transition(&app, &app.admin_token, id, "in_progress").await;
    let waiting: Value = transition(&app, &app.admin_token, id, "waiting_on_resident")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["sla"]["paused"], true);
    assert_eq!(waiting["sla"]["resolution_due_at"], Value::Null);
    let back: Value = transition(&app, &app.admin_token, id, "in_progress")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["sla"]["paused"], false);
    assert!(back["sla"]["resolution_due_at"].is_string());
}

async fn a_duplicate_is_merged_and_tickets_link_to_residents(db: Db) {
    let app = spawn_app(db).await;
    let first = phone_question(&app, &app.admin_token, "写真を印刷したい").await;
    let again = phone_question(&app, &app.admin_token, "写真の印刷（再度の電話）").await;
    let (dup, keep) = (again["id"].as_str().unwrap(), first["id"].as_str().unwrap());
    app.post_ok(
        &format!("/api/v1/tickets/{dup}/notes"),
        &app.admin_token,
        &json!({"body": "二回目の電話"}),
        201,
    )
    .await;
    let merged = app
        .post_ok(
            &format!("/api/v1/tickets/{dup}/merge"),
            &app.admin_token,
            &json!({"into_id": keep}),
            200,
        )
        .await;
    assert_eq!(merged["id"], keep);
    assert!(
        merged["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["body"] == "二回目の電話"),
        "the duplicate's timeline is kept"
    );
    let closed = app
        .get_ok(&format!("/api/v1/tickets/{dup}"), &app.admin_token)
        .await;
    assert_eq!(
        (closed["status"].as_str(), closed["merged_into"].as_str()),
        (Some("closed"), Some(keep))
    );
    let res = app
        .post(
            &format!("/api/v1/tickets/{dup}/merge"),
            &app.admin_token,
            &json!({"into_id": keep}),
        )
        .await;
    assert_problem(res, 409, "invalid_merge").await;
    {
        let mut conn = app.pool.get().unwrap();
        let sent: i64 = ticket_messages::table
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(sent, 0, "no message to the requester");
    }
    let resident = app
        .post_ok("/api/v1/residents", &app.admin_token, &json!({"family_name": "鈴木", "given_name": "花", "family_name_kana": "スズキ", "given_name_kana": "ハナ"}), 201)
        .await;
    let linked = app
        .post_ok(
            &format!("/api/v1/tickets/{keep}/links"),
            &app.admin_token,
            &json!({"resident_id": resident["id"]}),
            200,
        )
        .await;
    assert_eq!(linked["requester"]["resident_id"], resident["id"]);
    let res = app
        .post(
            &format!("/api/v1/tickets/{keep}/links"),
            &app.admin_token,
            &json!({"booking_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

async fn automatic_assignment_rotates_among_skilled_volunteers_on_duty(db: Db) {
    let app = spawn_app(db).await;
    let all_week: Vec<Value> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| json!({"weekday": d, "starts": "00:00", "ends": "23:59"}))
    .collect();
    let mut volunteers = Vec::new();
    for (email, skills, roster) in [
        ("a@kita.example", json!(["smartphone"]), json!(all_week)),
        (
            "b@kita.example",
            json!(["smartphone", "pc"]),
            json!(all_week),
        ),
        ("c@kita.example", json!(["pc"]), json!(all_week)),
        ("off@kita.example", json!(["smartphone"]), json!([])),
    ] {
        let (vol, _) = app.staff_with_token(email, "volunteer").await;
        let id = vol["id"].as_str().unwrap().to_owned();
        let res = app
            .client
            .put(app.url(&format!("/api/v1/staff/{id}/duty")))
            .bearer_auth(&app.admin_token)
            .json(&json!({"skills": skills, "roster": roster}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        volunteers.push(id);
    }
    let duty = app
        .get_ok(
            &format!("/api/v1/staff/{}/duty", volunteers[1]),
            &app.admin_token,
        )
        .await;
    assert_eq!(duty["skills"], json!(["pc", "smartphone"]));
    assert_eq!(duty["roster"].as_array().unwrap().len(), 7);
    let mut assignees = Vec::new();
    for i in 0..4 {
        let t = app.post_ok("/api/v1/tickets", &app.admin_token, &json!({"channel": "phone", "category": "smartphone", "subject": format!("LINE {i}")}), 201).await;
        let assigned = app
            .post_ok(
                &format!("/api/v1/tickets/{}/auto-assign", t["id"].as_str().unwrap()),
                &app.admin_token,
                &json!({}),
                200,
            )
            .await;
        assert_eq!(assigned["status"], "assigned");
        assignees.push(assigned["assignee_id"].as_str().unwrap().to_owned());
    }
    assert_ne!(assignees[0], assignees[1], "round-robin");
    assert_eq!(assignees[0], assignees[2]);
    assert_eq!(assignees[1], assignees[3]);
    for a in &assignees {
        assert!(
            a == &volunteers[0] || a == &volunteers[1],
            "only skilled volunteers on duty"
        );
    }
    let fax = app
        .post_ok(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"channel": "fax", "category": "photos_printing", "subject": "印刷"}),
            201,
        )
        .await;
    let res = app
        .post(
            &format!(
                "/api/v1/tickets/{}/auto-assign",
                fax["id"].as_str().unwrap()
            ),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "no_volunteer_on_duty").await;
    let res = app
        .client
        .put(app.url(&format!("/api/v1/staff/{}/duty", volunteers[0])))
        .bearer_auth(&app.admin_token)
        .json(&json!({"skills": ["astrology"], "roster": []}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 422, "validation_failed").await;
}

db_tests!(
    a_ticket_moves_only_along_its_allowed_transitions,
    walk_ins_get_unique_numbers_of_the_day_and_a_queue_board,
    a_question_answered_on_the_spot_is_one_request_and_still_counts,
    volunteers_work_their_own_queue_and_the_unassigned_one,
    replies_to_email_requesters_wait_for_the_mail_outbox,
    tickets_are_found_by_japanese_words_and_filters,
    resolved_tickets_close_by_themselves_and_stay_in_their_organisation,
    service_levels_run_in_business_hours_and_pause_while_waiting,
    a_duplicate_is_merged_and_tickets_link_to_residents,
    automatic_assignment_rotates_among_skilled_volunteers_on_duty,
);
