//! What the municipalities' real programmes needed (issue #11): enrolment
//! as a promise for sessions stored later, courses in parts, the loaner pool
//! on every path, the loaner fee only for a phone given, and eligibility.

use chrono::{Duration, Utc};
use madoguchi::config::ScheduleSettings;
use madoguchi::schedule::job;
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_problem, db_tests, schedule_hooks, spawn_app_with};

fn extend_to(app: &TestApp, horizon_days: u32) -> usize {
    let mut conn = app.pool.get().unwrap();
    let settings = ScheduleSettings {
        horizon_days,
        extend_interval_secs: 3600,
        max_sessions_per_series: 400,
        list_cache_ms: 0,
    };
    job::extend_all(&mut conn, &settings, schedule_hooks(), "test")
        .unwrap()
        .expect("lease taken")
}

async fn venue(app: &TestApp, name: &str) -> String {
    app.post_ok(
        "/api/v1/venues",
        &app.admin_token,
        &json!({"name": name, "default_capacity": 20}),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn course(app: &TestApp, extra: Value) -> String {
    let mut body = json!({"title": "ICTリーダー養成講座", "kind": "class", "default_fee_yen": 100, "default_length_minutes": 120});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post_ok("/api/v1/courses", &app.admin_token, &body, 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A series; returns (series id, stored session ids).
async fn series(app: &TestApp, course: &str, venue: &str, body: Value) -> (String, Vec<String>) {
    let mut full = json!({"course_id": course, "venue_id": venue, "start_time": "10:00", "skip_public_holidays": false,
                          "fee_yen": 100, "loaner_fee_yen": 200});
    for (k, v) in body.as_object().unwrap() {
        full[k] = v.clone();
    }
    let saved = app
        .post_ok("/api/v1/series", &app.admin_token, &full, 201)
        .await;
    let ids = saved["sessions"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    (saved["series"]["id"].as_str().unwrap().to_owned(), ids)
}

async fn person(app: &TestApp, given: &str, extra: Value) -> String {
    let mut body = json!({"family_name": "佐藤", "given_name": given, "family_name_kana": "さとう", "given_name_kana": "はなこ", "confirm_new_person": true});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post_ok("/api/v1/residents", &app.admin_token, &body, 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A resident's active bookings, soonest first: (session id, status).
async fn active_bookings(app: &TestApp, resident: &str) -> Vec<Value> {
    let all = app
        .get_ok(
            &format!("/api/v1/residents/{resident}/bookings"),
            &app.admin_token,
        )
        .await;
    all.as_array()
        .unwrap()
        .iter()
        .filter(|b| b["status"] != "cancelled")
        .cloned()
        .collect()
}

async fn seats_taken(app: &TestApp, session: &str) -> i64 {
    app.get_ok(&format!("/api/v1/sessions/{session}"), &app.admin_token)
        .await["seats_taken"]
        .as_i64()
        .unwrap()
}

async fn device(app: &TestApp, venue: &str, tag: &str) -> String {
    app.post_ok(
        "/api/v1/devices",
        &app.admin_token,
        &json!({"asset_tag": tag, "kind": "smartphone", "os": "android", "model": "AQUOS wish4", "home_venue_id": venue}),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn an_enrolment_books_sessions_stored_later_and_reports_what_it_cannot(db: Db) {
    // An 8-session course from now to about seven months ahead, on a
    // 60-day horizon: only the first three sessions are stored.
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 60).await;
    let hall = venue(&app, "中央公民館").await;
    let course = course(&app, json!({})).await;
    let (series, stored) = series(
        &app,
        &course,
        &hall,
        json!({"rrule": "FREQ=WEEKLY;INTERVAL=4", "count": 8, "capacity": 2,
               "starts_on": Utc::now().date_naive() + Duration::days(3)}),
    )
    .await;
    assert_eq!(stored.len(), 3, "three sessions within 60 days");
    let hanako = person(&app, "花子", json!({})).await;
    let jiro = person(&app, "次郎", json!({})).await;
    for who in [&hanako, &jiro] {
        let enrolled = app
            .post_ok(
                &format!("/api/v1/series/{series}/enrolments"),
                &app.admin_token,
                &json!({"resident_id": who, "channel": "phone"}),
                201,
            )
            .await;
        assert_eq!(enrolled["bookings"].as_array().unwrap().len(), 3);
    }

    // The job stores the rest: both enrolled residents hold all 8 seats.
    assert_eq!(extend_to(&app, 250), 5);
    for who in [&hanako, &jiro] {
        let held = active_bookings(&app, who).await;
        assert_eq!(held.len(), 8, "enrolled in the whole course");
        assert!(held.iter().all(|b| b["status"] == "confirmed"));
        assert!(
            held.iter()
                .all(|b| b["eligibility_override_reason"].is_null())
        );
    }

    // A third resident enrols, then the coordinator makes the course one
    // seat smaller for its later sessions and a ninth date is added by a
    // series edit: it can seat only two of the three enrolled.
    let saburo = person(&app, "三郎", json!({})).await;
    let res = app
        .patch(
            &format!("/api/v1/series/{series}"),
            &app.admin_token,
            &json!({"capacity": 3}),
        )
        .await;
    let saved: Value = res.json().await.unwrap();
    assert_eq!(
        saved["sessions"]["updated"].as_array().unwrap().len(),
        8,
        "{saved}"
    );
    app.post_ok(
        &format!("/api/v1/series/{series}/enrolments"),
        &app.admin_token,
        &json!({"resident_id": saburo, "channel": "counter"}),
        201,
    )
    .await;
    let res = app
        .patch(
            &format!("/api/v1/series/{series}"),
            &app.admin_token,
            &json!({"capacity": 2, "count": 9}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let saved: Value = res.json().await.unwrap();
    let ninth = saved["sessions"]["added"][0].as_str().unwrap().to_owned();
    assert_eq!(seats_taken(&app, &ninth).await, 2, "the first two enrolled");
    assert_eq!(active_bookings(&app, &hanako).await.len(), 9);
    assert_eq!(active_bookings(&app, &jiro).await.len(), 9);
    assert_eq!(active_bookings(&app, &saburo).await.len(), 8);

    // Not skipped silently: a conflict for the coordinators, and the audit.
    let conflicts = app
        .get_ok("/api/v1/enrolment-conflicts", &app.admin_token)
        .await;
    let list = conflicts.as_array().unwrap();
    assert_eq!(list.len(), 1, "{conflicts}");
    assert_eq!(list[0]["session_id"], ninth);
    assert_eq!(list[0]["code"], "session_full");
    assert_eq!(list[0]["resident"]["id"], saburo);
    let audit = app
        .get_ok("/api/v1/audit?action=enrolment.conflict", &app.admin_token)
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

    // Retrying without room changes nothing; after making room it books.
    let conflict = list[0]["id"].as_str().unwrap().to_owned();
    let res = app
        .post(
            &format!("/api/v1/enrolment-conflicts/{conflict}/retry"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "session_full").await;
    app.post_ok(
        &format!("/api/v1/sessions/{ninth}/resize"),
        &app.admin_token,
        &json!({"capacity": 3}),
        200,
    )
    .await;
    let retried = app
        .post_ok(
            &format!("/api/v1/enrolment-conflicts/{conflict}/retry"),
            &app.admin_token,
            &json!({}),
            200,
        )
        .await;
    assert_eq!(retried["booked"], 1);
    assert_eq!(active_bookings(&app, &saburo).await.len(), 9);
    let open = app
        .get_ok("/api/v1/enrolment-conflicts", &app.admin_token)
        .await;
    assert_eq!(open.as_array().unwrap().len(), 0);
    let resolved = app
        .get_ok(
            "/api/v1/enrolment-conflicts?status=resolved",
            &app.admin_token,
        )
        .await;
    assert_eq!(resolved.as_array().unwrap().len(), 1);

    let res = app
        .get(
            "/api/v1/enrolment-conflicts?status=everything",
            &app.admin_token,
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

async fn a_course_in_two_parts_is_enrolled_and_withdrawn_as_one(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 120).await;
    let north = venue(&app, "北公民館").await;
    let south = venue(&app, "南公民館").await;
    let course = course(&app, json!({})).await;
    let start = Utc::now().date_naive() + Duration::days(3);
    let (_, first_half) = series(
        &app,
        &course,
        &north,
        json!({"rrule": "FREQ=WEEKLY", "count": 4, "capacity": 5, "starts_on": start}),
    )
    .await;
    let (_, second_half) = series(
        &app,
        &course,
        &south,
        json!({"rrule": "FREQ=WEEKLY", "count": 4, "capacity": 1, "starts_on": start + Duration::days(35)}),
    )
    .await;
    let tomoko = person(&app, "智子", json!({})).await;
    let enrolled = app
        .post_ok(
            &format!("/api/v1/courses/{course}/enrolments"),
            &app.admin_token,
            &json!({"resident_id": tomoko, "channel": "phone"}),
            201,
        )
        .await;
    let parts = enrolled["enrolments"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert!(
        parts
            .iter()
            .all(|p| p["bookings"].as_array().unwrap().len() == 4)
    );
    assert_eq!(active_bookings(&app, &tomoko).await.len(), 8);

    // The second half is now full: another resident's course enrolment
    // takes no seat in the first half either.
    let kenji = person(&app, "健二", json!({})).await;
    let res = app
        .post(
            &format!("/api/v1/courses/{course}/enrolments"),
            &app.admin_token,
            &json!({"resident_id": kenji, "channel": "phone"}),
        )
        .await;
    let problem = assert_problem(res, 409, "session_full").await;
    assert_eq!(problem["session_id"], second_half[0]);
    assert_eq!(seats_taken(&app, &first_half[0]).await, 1, "all or none");
    assert!(active_bookings(&app, &kenji).await.is_empty());

    // A third part scheduled later is covered by the same enrolment.
    let (_, third) = series(
        &app,
        &course,
        &north,
        json!({"rrule": "FREQ=WEEKLY", "count": 2, "capacity": 5, "starts_on": start + Duration::days(70)}),
    )
    .await;
    assert_eq!(seats_taken(&app, &third[0]).await, 1);
    assert_eq!(active_bookings(&app, &tomoko).await.len(), 10);

    // Withdrawing frees every seat of every part.
    let id = enrolled["id"].as_str().unwrap();
    let withdrawn = app
        .post_ok(
            &format!("/api/v1/course-enrolments/{id}/cancel"),
            &app.admin_token,
            &json!({"reason": "体調不良のため"}),
            200,
        )
        .await;
    assert_eq!(withdrawn["status"], "cancelled");
    assert!(active_bookings(&app, &tomoko).await.is_empty());
    for s in first_half.iter().chain(&second_half).chain(&third) {
        assert_eq!(seats_taken(&app, s).await, 0);
    }
    let res = app
        .post(
            &format!("/api/v1/course-enrolments/{id}/cancel"),
            &app.admin_token,
            &json!({"reason": "again"}),
        )
        .await;
    assert_problem(res, 409, "invalid_transition").await;
}

async fn walk_ins_and_enrolments_go_through_the_loaner_pool(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 60).await;
    let hall = venue(&app, "東公民館").await;
    let course = course(&app, json!({})).await;
    let session = app.session_ok(10, json!({"venue_id": hall})).await;
    app.set_session_start(&session, Duration::minutes(10));
    let (a, b) = (
        person(&app, "一郎", json!({})).await,
        person(&app, "二郎", json!({})).await,
    );

    // No devices at all: a walk-in asking for a phone gets the same answer
    // as a booking would, and nothing is seated.
    let booking = app
        .post(
            &format!("/api/v1/sessions/{session}/bookings"),
            &app.admin_token,
            &json!({"resident_id": a, "channel": "phone", "needs_loaner": true}),
        )
        .await;
    assert_problem(booking, 409, "no_loaner_available").await;
    let walk_in = app
        .post(
            &format!("/api/v1/sessions/{session}/walk-ins"),
            &app.admin_token,
            &json!({"resident_id": a, "needs_loaner": true}),
        )
        .await;
    assert_problem(walk_in, 409, "no_loaner_available").await;
    assert_eq!(seats_taken(&app, &session).await, 0);

    // The instructor's explicit choices.
    let waiting = app
        .post_ok(
            &format!("/api/v1/sessions/{session}/walk-ins"),
            &app.admin_token,
            &json!({"resident_id": a, "needs_loaner": true, "if_no_loaner": "waitlist"}),
            201,
        )
        .await;
    assert_eq!(waiting["loaner"], "waitlisted");
    assert_eq!(waiting["fee_due"], 100, "no phone given, no loaner fee");
    let without = app
        .post_ok(
            &format!("/api/v1/sessions/{session}/walk-ins"),
            &app.admin_token,
            &json!({"resident_id": b, "needs_loaner": true, "if_no_loaner": "book_without"}),
            201,
        )
        .await;
    assert_eq!(without["loaner"], "none");
    assert_eq!(without["needs_loaner"], false);
    assert_eq!(without["fee_due"], 100);

    // A device arrives and goes to the waiting walk-in: now 300 yen is due.
    let phone = device(&app, &hall, "HIGASHI-001").await;
    app.post_ok(
        &format!("/api/v1/devices/{phone}/status"),
        &app.admin_token,
        &json!({"status": "maintenance", "note": "初期設定"}),
        200,
    )
    .await;
    app.post_ok(
        &format!("/api/v1/devices/{phone}/status"),
        &app.admin_token,
        &json!({"status": "available", "note": "設定完了"}),
        200,
    )
    .await;
    let id = waiting["id"].as_str().unwrap();
    let now = app
        .get_ok(&format!("/api/v1/bookings/{id}"), &app.admin_token)
        .await;
    assert_eq!(now["loaner"], "reserved");
    assert_eq!(now["fee_due"], 300);

    // An enrolment with needs_loaner reserves a device in every session
    // where one is free; with none free and no choice it books nothing.
    let (series, stored) = series(
        &app,
        &course,
        &hall,
        json!({"rrule": "FREQ=WEEKLY", "count": 3, "capacity": 5,
               "starts_on": Utc::now().date_naive() + Duration::days(3)}),
    )
    .await;
    let c = person(&app, "三子", json!({})).await;
    let enrolled = app
        .post_ok(
            &format!("/api/v1/series/{series}/enrolments"),
            &app.admin_token,
            &json!({"resident_id": c, "channel": "phone", "needs_loaner": true}),
            201,
        )
        .await;
    for b in enrolled["bookings"].as_array().unwrap() {
        assert_eq!(b["loaner"], "reserved", "{b}");
        assert_eq!(b["fee_due"], 300);
    }
    let d = person(&app, "四郎", json!({})).await;
    let res = app
        .post(
            &format!("/api/v1/series/{series}/enrolments"),
            &app.admin_token,
            &json!({"resident_id": d, "channel": "phone", "needs_loaner": true}),
        )
        .await;
    let problem = assert_problem(res, 409, "no_loaner_available").await;
    assert_eq!(problem["session_id"], stored[0]);
    for s in &stored {
        assert_eq!(seats_taken(&app, s).await, 1, "nothing booked for 四郎");
    }
    let waiting = app
        .post_ok(
            &format!("/api/v1/series/{series}/enrolments"),
            &app.admin_token,
            &json!({"resident_id": d, "channel": "phone", "needs_loaner": true, "if_no_loaner": "waitlist"}),
            201,
        )
        .await;
    for b in waiting["bookings"].as_array().unwrap() {
        assert_eq!(b["loaner"], "waitlisted");
        assert_eq!(b["fee_due"], 100);
    }
}

async fn the_loaner_fee_is_due_only_for_a_phone_reserved_or_lent(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let hall = venue(&app, "西公民館").await;
    let session = app.session_ok(10, json!({"venue_id": hall})).await;
    device(&app, &hall, "NISHI-001").await;
    let (a, b) = (
        person(&app, "一子", json!({})).await,
        person(&app, "二子", json!({})).await,
    );
    let first = app
        .post_ok(
            &format!("/api/v1/sessions/{session}/bookings"),
            &app.admin_token,
            &json!({"resident_id": a, "channel": "phone", "needs_loaner": true}),
            201,
        )
        .await;
    assert_eq!(first["fee_due"], 300);
    let lines = first["fee_breakdown"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["item"], "loaner");
    assert_eq!(lines[1]["due"], true);
    assert!(lines[1]["why"].as_str().unwrap().contains("reserved"));

    // The only phone is taken: the second waits for one and owes the class
    // fee only, and taking 300 yen is refused as an overpayment.
    let second = app
        .post_ok(
            &format!("/api/v1/sessions/{session}/bookings"),
            &app.admin_token,
            &json!({"resident_id": b, "channel": "phone", "needs_loaner": true, "if_no_loaner": "waitlist"}),
            201,
        )
        .await;
    assert_eq!(second["loaner"], "waitlisted");
    assert_eq!(second["fee_due"], 100);
    let lines = second["fee_breakdown"].as_array().unwrap();
    assert_eq!(lines[1]["due"], false);
    assert_eq!(lines[1]["yen"], 200);
    assert!(lines[1]["why"].as_str().unwrap().contains("waiting"));
    let second_id = second["id"].as_str().unwrap();
    app.set_session_start(&session, Duration::minutes(10));
    let res = app
        .post(
            "/api/v1/payments",
            &app.admin_token,
            &json!({"booking_id": second_id, "amount": 300, "method": "cash"}),
        )
        .await;
    assert_problem(res, 409, "overpayment").await;

    // The first cancels: the phone passes to the second, and so does the fee.
    let first_id = first["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/bookings/{first_id}/cancel"),
        &app.admin_token,
        &json!({"reason": "都合がつかない"}),
        200,
    )
    .await;
    let now = app
        .get_ok(&format!("/api/v1/bookings/{second_id}"), &app.admin_token)
        .await;
    assert_eq!(now["loaner"], "reserved");
    assert_eq!(now["fee_due"], 300);
    app.post_ok(
        "/api/v1/payments",
        &app.admin_token,
        &json!({"booking_id": second_id, "amount": 300, "method": "cash"}),
        201,
    )
    .await;
    let fees = app
        .get_ok(
            &format!("/api/v1/sessions/{session}/fees"),
            &app.admin_token,
        )
        .await;
    assert_eq!(fees["expected"], 300, "{fees}");
}

async fn a_course_for_a_group_refuses_others_with_the_reason(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let hall = venue(&app, "留萌市中央公民館").await;
    let course = course(
        &app,
        json!({"title": "55歳以上のスマホ教室", "eligibility": {"min_age": 55, "districts": ["留萌", "礼受"]}}),
    )
    .await;
    let shown = app
        .get_ok(&format!("/api/v1/courses/{course}"), &app.admin_token)
        .await;
    assert_eq!(shown["eligibility"]["min_age"], 55);
    assert_eq!(shown["eligibility"]["districts"], json!(["留萌", "礼受"]));
    let session = app
        .session_ok(10, json!({"venue_id": hall, "course_id": course}))
        .await;
    let year = chrono::Datelike::year(&Utc::now().date_naive());
    let young = person(
        &app,
        "若子",
        json!({"birth_year": year - 40, "district": "留萌"}),
    )
    .await;
    let elsewhere = person(
        &app,
        "遠子",
        json!({"birth_year": year - 70, "district": "札幌"}),
    )
    .await;
    let unknown = person(&app, "不明", json!({"district": "留萌"})).await;
    let fits = person(
        &app,
        "適子",
        json!({"birth_year": year - 70, "district": "礼受"}),
    )
    .await;

    let book = |who: String, extra: Value| {
        let app = &app;
        let session = session.clone();
        async move {
            let mut body = json!({"resident_id": who, "channel": "phone"});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            app.post(
                &format!("/api/v1/sessions/{session}/bookings"),
                &app.admin_token,
                &body,
            )
            .await
        }
    };
    let p = assert_problem(book(young.clone(), json!({})).await, 409, "not_eligible").await;
    assert!(p["detail"].as_str().unwrap().contains("40"), "{p}");
    let p = assert_problem(book(elsewhere, json!({})).await, 409, "not_eligible").await;
    assert!(p["detail"].as_str().unwrap().contains("札幌"), "{p}");
    let p = assert_problem(book(unknown, json!({})).await, 409, "eligibility_unknown").await;
    assert_eq!(p["missing"], json!(["birth_year"]));
    assert_eq!(seats_taken(&app, &session).await, 0, "nothing booked");

    let ok = book(fits, json!({})).await;
    assert_eq!(ok.status(), 201);
    let res = book(
        young,
        json!({"override_eligibility_reason": "サロン会員の付き添い"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let overridden: Value = res.json().await.unwrap();
    assert_eq!(
        overridden["eligibility_override_reason"],
        "サロン会員の付き添い"
    );
    assert_eq!(seats_taken(&app, &session).await, 2);

    // A bad rule is a 422 naming the field, and changes nothing.
    let res = app
        .patch(
            &format!("/api/v1/courses/{course}"),
            &app.admin_token,
            &json!({"eligibility": {"min_age": 70, "max_age": 60}}),
        )
        .await;
    let p = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "eligibility.max_age");
    // `{}` opens the course to everyone again.
    let opened = app
        .patch(
            &format!("/api/v1/courses/{course}"),
            &app.admin_token,
            &json!({"eligibility": {}}),
        )
        .await;
    assert_eq!(opened.status(), 200);
    let opened: Value = opened.json().await.unwrap();
    assert_eq!(opened["eligibility"]["min_age"], Value::Null);
}

fn tokyo(t: &Value) -> chrono::DateTime<chrono_tz::Tz> {
    chrono::DateTime::parse_from_rfc3339(t.as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Tokyo)
}

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn question(app: &TestApp, extra: Value) -> reqwest::Response {
    let mut body = json!({"channel": "phone", "category": "photos_printing", "subject": "写真を印刷したい",
                          "priority": "urgent", "contact_phone": "090-1111-2222"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/api/v1/tickets", &app.admin_token, &body).await
}

async fn tickets_taken_earlier_count_from_when_they_were_received(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let counter = venue(&app, "大垣市ICT相談センター").await;
    let an_hour_ago = Utc::now() - Duration::hours(1);
    let res = question(&app, json!({"received_at": rfc3339(an_hour_ago)})).await;
    assert_eq!(res.status(), 201);
    let call: Value = res.json().await.unwrap();
    assert_eq!(
        tokyo(&call["received_at"]).timestamp(),
        an_hour_ago.timestamp()
    );
    // The service level counts from the call, in the organisation's hours.
    let cal = {
        let mut conn = app.pool.get().unwrap();
        madoguchi::calendar::business_calendar(&mut conn, app.org_id, None).unwrap()
    };
    let received = chrono::DateTime::parse_from_rfc3339(call["received_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(
        tokyo(&call["sla"]["first_response_due_at"]).timestamp(),
        cal.add_business_minutes(received, 30).timestamp(),
        "30 business minutes from the call, not from its entry"
    );

    // A paper list kept during an outage: yesterday's walk-ins keep
    // yesterday's queue numbers, resolved when they were there.
    let yesterday = Utc::now() - Duration::hours(25);
    let visit = json!({"channel": "face_to_face", "venue_id": counter, "priority": "normal",
                       "received_at": rfc3339(yesterday), "resolved_with": "印刷の手順を説明"});
    let first = question(&app, visit.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let day = yesterday
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    assert_eq!(first["status"], "resolved");
    assert_eq!(
        tokyo(&first["resolved_at"]).timestamp(),
        yesterday.timestamp()
    );
    // (resolved on the spot takes no queue number; an open visit does)
    let open_visit = json!({"channel": "face_to_face", "venue_id": counter, "priority": "normal",
                            "received_at": rfc3339(yesterday)});
    let numbered: Value = question(&app, open_visit).await.json().await.unwrap();
    assert_eq!(numbered["queue_date"], json!(day));
    assert_eq!(numbered["queue_number"], 1);
    let today: Value = question(
        &app,
        json!({"channel": "face_to_face", "venue_id": counter}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(today["queue_number"], 1, "today's queue starts at 1 too");

    // Statistics count by the time received.
    let range = format!(
        "from={}&to={}",
        rfc3339(Utc::now() - Duration::hours(2)),
        rfc3339(Utc::now() + Duration::minutes(1))
    );
    let stats = app
        .get_ok(
            &format!("/api/v1/tickets/stats?{}", range.replace('+', "%2B")),
            &app.admin_token,
        )
        .await;
    assert_eq!(stats["total"], 2, "the call and today's visit: {stats}");

    // Not in the future, not further back than the setting; nothing stored.
    let before = app
        .get_ok("/api/v1/tickets?limit=100", &app.admin_token)
        .await["items"]
        .as_array()
        .unwrap()
        .len();
    for when in [
        Utc::now() + Duration::hours(1),
        Utc::now() - Duration::hours(24 * 8),
    ] {
        let res = question(&app, json!({"received_at": rfc3339(when)})).await;
        let p = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "received_at");
    }
    let after = app
        .get_ok("/api/v1/tickets?limit=100", &app.admin_token)
        .await["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
}

async fn hours(app: &TestApp, venue: &str, week: Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(app.url(&format!("/api/v1/venues/{venue}/opening-hours")))
        .bearer_auth(&app.admin_token)
        .json(&week)
        .send()
        .await
        .unwrap()
}

async fn two_venues_open_on_different_days_each_keep_their_hours(db: Db) {
    use chrono::{Datelike, NaiveTime, Weekday};
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 30).await;
    let monday_only = venue(&app, "大垣市情報工房").await;
    let tue_to_sun = venue(&app, "大垣市ソフトピアジャパン").await;
    let neither = venue(&app, "大垣市役所").await;
    let res = hours(
        &app,
        &monday_only,
        json!([{"weekday": "monday", "opens": "10:00:00", "closes": "16:00:00"}]),
    )
    .await;
    assert_eq!(res.status(), 200);
    let week: Vec<Value> = [
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| json!({"weekday": d, "opens": "10:00:00", "closes": "18:00:00"}))
    .collect();
    let saved: Value = hours(&app, &tue_to_sun, json!(week))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["own"], true);
    assert_eq!(saved["hours"].as_array().unwrap().len(), 6);
    let fallback = app
        .get_ok(
            &format!("/api/v1/venues/{neither}/opening-hours"),
            &app.admin_token,
        )
        .await;
    assert_eq!(fallback["own"], false);
    assert_eq!(fallback["hours"][0]["opens"], "09:00:00");
    let bad = hours(
        &app,
        &monday_only,
        json!([{"weekday": "monday", "opens": "16:00:00", "closes": "10:00:00"}]),
    )
    .await;
    let p = assert_problem(bad, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "[0].closes");

    // Service levels follow the venue the question was taken at.
    let at = |venue: &str| json!({"venue_id": venue});
    let within = |t: &Value, opens: u32, closes: u32| {
        let due = tokyo(&t["sla"]["first_response_due_at"]);
        let time = due.time();
        assert!(
            time >= NaiveTime::from_hms_opt(opens, 0, 0).unwrap()
                && time <= NaiveTime::from_hms_opt(closes, 0, 0).unwrap(),
            "{due} within {opens}–{closes}"
        );
        due
    };
    let a: Value = question(&app, at(&monday_only)).await.json().await.unwrap();
    assert_eq!(within(&a, 10, 16).weekday(), Weekday::Mon);
    let b: Value = question(&app, at(&tue_to_sun)).await.json().await.unwrap();
    assert_ne!(within(&b, 10, 18).weekday(), Weekday::Mon);
    let c: Value = question(&app, json!({})).await.json().await.unwrap();
    let due = within(&c, 9, 17);
    assert!(!matches!(due.weekday(), Weekday::Sat | Weekday::Sun));

    // A closure of one venue moves its service levels and skips its
    // sessions; the other venue is untouched.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let closed = app
        .post_ok(
            "/api/v1/closures",
            &app.admin_token,
            &json!({"start_date": today, "end_date": today + Duration::days(9), "reason": "館内工事",
                    "venue_id": tue_to_sun}),
            201,
        )
        .await;
    assert_eq!(closed["closure"]["venue_id"], tue_to_sun);
    let b: Value = question(&app, at(&tue_to_sun)).await.json().await.unwrap();
    assert!(within(&b, 10, 18).date_naive() >= today + Duration::days(10));
    let a: Value = question(&app, at(&monday_only)).await.json().await.unwrap();
    assert!(within(&a, 10, 16).date_naive() < today + Duration::days(8));

    let course = course(&app, json!({})).await;
    let daily = json!({"rrule": "FREQ=DAILY", "starts_on": today + Duration::days(1),
                       "until": today + Duration::days(5), "capacity": 5});
    let (_, at_a) = series(&app, &course, &monday_only, daily.clone()).await;
    let (_, at_b) = series(&app, &course, &tue_to_sun, daily).await;
    assert_eq!(at_a.len(), 5);
    assert_eq!(at_b.len(), 0, "the venue is closed those days");

    // Availability shows each venue's hours on the session's day.
    let monday = (1..=7)
        .map(|d| today + Duration::days(d))
        .find(|d| d.weekday() == Weekday::Mon)
        .unwrap();
    let s = app
        .session_ok(
            10,
            json!({"venue_id": monday_only, "course_id": course, "date": monday}),
        )
        .await;
    let shown = app
        .get_ok(&format!("/api/v1/sessions/{s}"), &app.admin_token)
        .await;
    assert_eq!(shown["venue_hours"]["opens"], "10:00:00", "{shown}");
    assert_eq!(shown["venue_hours"]["closes"], "16:00:00");
    let list = app
        .get_ok(
            &format!("/api/v1/sessions?venue_id={monday_only}&from={monday}&to={monday}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(list["items"][0]["venue_hours"]["weekday"], "monday");
    let feed = app
        .post_ok(
            &format!("/api/v1/venues/{monday_only}/calendar-feed"),
            &app.admin_token,
            &json!({}),
            201,
        )
        .await;
    let ics = app
        .client
        .get(app.url(feed["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.contains("開館時間: 10:00–16:00"), "{ics}");

    // An empty list returns the venue to the organisation's hours.
    let back: Value = hours(&app, &monday_only, json!([]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["own"], false);
}

db_tests!(
    an_enrolment_books_sessions_stored_later_and_reports_what_it_cannot,
    a_course_in_two_parts_is_enrolled_and_withdrawn_as_one,
    walk_ins_and_enrolments_go_through_the_loaner_pool,
    the_loaner_fee_is_due_only_for_a_phone_reserved_or_lent,
    a_course_for_a_group_refuses_others_with_the_reason,
    tickets_taken_earlier_count_from_when_they_were_received,
    two_venues_open_on_different_days_each_keep_their_hours,
);
