//! Least privilege, as a table: role × operation → allowed, denied, or the
//! limited view of a resident. The same matrix is written in docs/access.md.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, db_tests, spawn_app};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// 2xx.
    Allowed,
    /// 403, or 404 where the record is outside the caller's queue.
    Denied,
    /// 200 with the resident in the given view.
    View(&'static str),
}
use Expect::*;

/// (operation, method, path, body, [admin, coordinator, instructor, other instructor, volunteer])
type Row = (
    &'static str,
    &'static str,
    String,
    Option<Value>,
    [Expect; 5],
);

struct World {
    tokens: Vec<(&'static str, String)>,
    venue: String,
    session: String,
    booked: String,
    asker: String,
    booking: String,
    mine_ticket: String,
    other_ticket: String,
    coordinator_id: String,
}

async fn world(app: &TestApp) -> World {
    let (venue, course) = app.venue_and_course().await;
    let (coordinator, coord_token) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let (teacher, teacher_token) = app
        .staff_with_token("teacher@kita.example", "instructor")
        .await;
    let (_, other_teacher_token) = app
        .staff_with_token("other@kita.example", "instructor")
        .await;
    let (volunteer, volunteer_token) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let day = Utc::now().date_naive() + Duration::days(3);
    let session = app
        .post_ok("/api/v1/sessions", &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "14:00", "instructor_ids": [teacher["id"]]}), 201)
        .await["id"].as_str().unwrap().to_owned();
    let mut residents = Vec::new();
    for (given, kana, phone) in [
        ("花", "はな", "090-1111-2222"),
        ("一", "はじめ", "090-3333-4444"),
    ] {
        let r = app
            .post_ok("/api/v1/residents", &app.admin_token,
                &json!({"family_name": "伊藤", "given_name": given, "family_name_kana": "いとう", "given_name_kana": kana,
                        "phone": phone, "district": "北町", "notes": "補聴器を使用", "birth_year": 1948, "confirm_new_person": true}), 201)
            .await;
        residents.push(r["id"].as_str().unwrap().to_owned());
    }
    let booking = app.book_ok(&session, &residents[0]).await;
    app.post_ok(
        "/api/v1/payments",
        &app.admin_token,
        &json!({"booking_id": booking["id"], "amount": 100, "method": "cash"}),
        201,
    )
    .await;
    let ticket = |subject: &str| json!({"channel": "phone", "category": "smartphone", "subject": subject, "contact_phone": "090-3333-4444"});
    let mine = app
        .post_ok(
            "/api/v1/tickets",
            &app.admin_token,
            &ticket("写真の印刷"),
            201,
        )
        .await;
    let mine = mine["id"].as_str().unwrap().to_owned();
    app.post_ok(
        &format!("/api/v1/tickets/{mine}/links"),
        &app.admin_token,
        &json!({"resident_id": residents[1]}),
        200,
    )
    .await;
    app.post_ok(
        &format!("/api/v1/tickets/{mine}/assign"),
        &app.admin_token,
        &json!({"assignee_id": volunteer["id"]}),
        200,
    )
    .await;
    let other = app
        .post_ok(
            "/api/v1/tickets",
            &app.admin_token,
            &ticket("LINEの設定"),
            201,
        )
        .await;
    let other = other["id"].as_str().unwrap().to_owned();
    app.post_ok(
        &format!("/api/v1/tickets/{other}/assign"),
        &app.admin_token,
        &json!({"assignee_id": coordinator["id"]}),
        200,
    )
    .await;
    World {
        tokens: vec![
            ("admin", app.admin_token.clone()),
            ("coordinator", coord_token),
            ("instructor", teacher_token),
            ("other instructor", other_teacher_token),
            ("volunteer", volunteer_token),
        ],
        venue,
        session,
        booked: residents[0].clone(),
        asker: residents[1].clone(),
        booking: booking["id"].as_str().unwrap().to_owned(),
        mine_ticket: mine,
        other_ticket: other,
        coordinator_id: coordinator["id"].as_str().unwrap().to_owned(),
    }
}

async fn the_role_matrix_holds(db: Db) {
    let app = spawn_app(db).await;
    let w = world(&app).await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    // (operation, method, path, body, [admin, coordinator, instructor, other instructor, volunteer])
    let table: Vec<Row> = vec![
        (
            "read the booked resident",
            "GET",
            format!("/api/v1/residents/{}", w.booked),
            None,
            [
                View("full"),
                View("full"),
                View("full"),
                View("limited"),
                View("limited"),
            ],
        ),
        (
            "read the ticket's requester",
            "GET",
            format!("/api/v1/residents/{}", w.asker),
            None,
            [
                View("full"),
                View("full"),
                View("limited"),
                View("limited"),
                View("full"),
            ],
        ),
        (
            "a resident's bookings",
            "GET",
            format!("/api/v1/residents/{}/bookings", w.booked),
            None,
            [Allowed, Allowed, Allowed, Denied, Denied],
        ),
        (
            "a resident's balance",
            "GET",
            format!("/api/v1/residents/{}/balance", w.booked),
            None,
            [Allowed, Allowed, Allowed, Denied, Denied],
        ),
        (
            "list bookings",
            "GET",
            "/api/v1/bookings".into(),
            None,
            [Allowed, Allowed, Allowed, Allowed, Denied],
        ),
        (
            "one booking",
            "GET",
            format!("/api/v1/bookings/{}", w.booking),
            None,
            [Allowed, Allowed, Allowed, Denied, Denied],
        ),
        (
            "a session's roster",
            "GET",
            format!("/api/v1/sessions/{}/roster", w.session),
            None,
            [Allowed, Allowed, Allowed, Denied, Denied],
        ),
        (
            "a session's fees",
            "GET",
            format!("/api/v1/sessions/{}/fees", w.session),
            None,
            [Allowed, Allowed, Allowed, Denied, Denied],
        ),
        (
            "the cash sheet",
            "GET",
            format!("/api/v1/venues/{}/cash-sheet?date={today}", w.venue),
            None,
            [Allowed, Allowed, Allowed, Allowed, Denied],
        ),
        (
            "open loans",
            "GET",
            "/api/v1/loans".into(),
            None,
            [Allowed, Allowed, Allowed, Allowed, Denied],
        ),
        (
            "take someone else's ticket",
            "POST",
            format!("/api/v1/tickets/{}/assign", w.mine_ticket),
            Some(json!({"assignee_id": w.coordinator_id})),
            [Allowed, Allowed, Denied, Denied, Denied],
        ),
        (
            "write on someone else's ticket",
            "POST",
            format!("/api/v1/tickets/{}/notes", w.other_ticket),
            Some(json!({"body": "前回も同じ症状"})),
            [Allowed, Allowed, Denied, Denied, Denied],
        ),
        (
            "the audit log",
            "GET",
            "/api/v1/audit".into(),
            None,
            [Allowed, Denied, Denied, Denied, Denied],
        ),
        (
            "staff accounts",
            "GET",
            "/api/v1/staff".into(),
            None,
            [Allowed, Allowed, Denied, Denied, Denied],
        ),
    ];
    let mut failures = Vec::new();
    for (operation, method, path, body, expected) in &table {
        // Writes run last-to-first so the admin's allowed write comes after
        // everyone else's denied one.
        for (i, (role, token)) in w.tokens.iter().enumerate().rev() {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut req = app.client.request(m, app.url(path)).bearer_auth(token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let answer: Value = res.json().await.unwrap_or(Value::Null);
            let ok = match expected[i] {
                Allowed => (200..300).contains(&status),
                Denied => status == 403 || status == 404,
                View(view) => status == 200 && answer["view"] == view,
            };
            if !ok {
                failures.push(format!(
                    "{role} / {operation}: expected {:?}, got {status} {answer}",
                    expected[i]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn a_search_outside_ones_sessions_shows_only_what_identifies_a_person(db: Db) {
    let app = spawn_app(db).await;
    let w = world(&app).await;
    let by_role = |role: &str| w.tokens.iter().find(|(r, _)| *r == role).unwrap().1.clone();
    let page = app
        .get_ok("/api/v1/residents?q=いとう", &by_role("other instructor"))
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for r in items {
        assert_eq!(r["view"], "limited");
        assert_eq!(r["family_name"], "伊藤");
        assert_eq!(r["birth_year"], 1948);
        assert!(
            r["phone"].is_null()
                && r["notes"].is_null()
                && r["district"].is_null()
                && r["email"].is_null(),
            "{r}"
        );
        let last = r["phone_last_digits"].as_str().unwrap();
        assert!(last == "2222" || last == "4444", "{r}");
    }
    // The instructor of the session sees their participant in full, the
    // other one limited, in the same search.
    let page = app
        .get_ok("/api/v1/residents?q=いとう", &by_role("instructor"))
        .await;
    for r in page["items"].as_array().unwrap() {
        let expected = if r["id"] == w.booked.as_str() {
            "full"
        } else {
            "limited"
        };
        assert_eq!(r["view"], expected, "{r}");
        if expected == "full" {
            assert_eq!(r["notes"], "補聴器を使用");
            assert_eq!(r["phone"], "09011112222");
        }
    }
    // An instructor's cash sheet holds only the sessions they teach.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let path = format!("/api/v1/venues/{}/cash-sheet?date={today}", w.venue);
    assert_eq!(app.get_ok(&path, &by_role("admin")).await["total"], 100);
    assert_eq!(
        app.get_ok(&path, &by_role("instructor")).await["total"],
        100
    );
    assert_eq!(
        app.get_ok(&path, &by_role("other instructor")).await["total"],
        0
    );
    // And their booking list only their sessions' bookings.
    assert_eq!(
        app.get_ok("/api/v1/bookings", &by_role("instructor")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get_ok("/api/v1/bookings", &by_role("other instructor"))
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

db_tests!(
    the_role_matrix_holds,
    a_search_outside_ones_sessions_shows_only_what_identifies_a_person,
);
