//! Lotteries (applications, one recorded draw) and held offers, on both
//! databases.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Db, TestApp, assert_problem, db_tests, spawn_app};

const RULE: madoguchi::bookings::lottery::NoShowRule = madoguchi::bookings::lottery::NoShowRule {
    count: 2,
    months: 6,
};

fn rfc3339(from_now: Duration) -> String {
    (Utc::now() + from_now).to_rfc3339()
}

async fn session(app: &TestApp, s: &str) -> Value {
    app.get_ok(&format!("/api/v1/sessions/{s}"), &app.admin_token)
        .await
}

async fn roster(app: &TestApp, s: &str) -> Value {
    app.get_ok(&format!("/api/v1/sessions/{s}/roster"), &app.admin_token)
        .await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Counts a session's bookings by status straight from the database, with
/// the session's own counter: the invariant is `seats_taken = confirmed +
/// offered`.
fn counts(app: &TestApp, s: &str) -> (i32, i64, i64, i64, i64) {
    use madoguchi::db::schema::{bookings, sessions};
    let mut conn = app.pool.get().unwrap();
    let taken: i32 = sessions::table
        .filter(sessions::id.eq(s))
        .select(sessions::seats_taken)
        .first(&mut *conn)
        .unwrap();
    let count = |conn: &mut madoguchi::db::DbConnection, status: &str| -> i64 {
        bookings::table
            .filter(bookings::session_id.eq(s))
            .filter(bookings::status.eq(status))
            .count()
            .get_result(conn)
            .unwrap()
    };
    (
        taken,
        count(&mut conn, "confirmed"),
        count(&mut conn, "offered"),
        count(&mut conn, "waitlisted"),
        count(&mut conn, "applied"),
    )
}

fn assert_seats_add_up(app: &TestApp, s: &str, capacity: i64, when: &str) {
    let (taken, confirmed, offered, _, _) = counts(app, s);
    assert_eq!(
        i64::from(taken),
        confirmed + offered,
        "{when}: seats_taken = confirmed + offered"
    );
    assert!(confirmed + offered <= capacity, "{when}: over capacity");
}

fn draw_job(app: &TestApp) -> usize {
    let mut conn = app.pool.get().unwrap();
    madoguchi::bookings::lottery::draw_due(&mut conn, RULE, 30).unwrap()
}

fn expire_job(app: &TestApp) -> usize {
    let mut conn = app.pool.get().unwrap();
    madoguchi::bookings::offers::expire_due(&mut conn, 30).unwrap()
}

/// Moves an offer's expiry into the past (the clock of a day gone by).
fn let_offer_lapse(app: &TestApp, booking: &str) {
    use madoguchi::db::schema::bookings;
    let mut conn = app.pool.get().unwrap();
    diesel::update(bookings::table.filter(bookings::id.eq(booking)))
        .set(bookings::offer_expires_at.eq(Utc::now().naive_utc() - Duration::minutes(1)))
        .execute(&mut *conn)
        .unwrap();
}

async fn calls_about(app: &TestApp, reason: &str) -> Vec<Value> {
    app.get_ok(
        &format!("/api/v1/call-list?reason={reason}&limit=100"),
        &app.admin_token,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// A resident who attended this course before: booked into a class of the
/// course that starts in 20 minutes, marked present.
async fn attended_before(app: &TestApp, course: &str, venue: &str, resident: &str) {
    let earlier = app
        .post_ok(
            "/api/v1/sessions",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue,
                    "date": Utc::now().date_naive() + Duration::days(3), "start_time": "10:00"}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let booking = app.book_ok(&earlier, resident).await;
    app.set_session_start(&earlier, Duration::minutes(20));
    app.post_ok(
        &format!("/api/v1/sessions/{earlier}/attendance"),
        &app.admin_token,
        &json!({"marks": [{"booking_id": booking["id"], "attendance": "present"}]}),
        200,
    )
    .await;
}

async fn a_lottery_takes_applications_draws_once_and_explains_itself(db: Db) {
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    let people = app.residents_ok(5).await;
    // 住民 0 came to this course before; first-timers are drawn first.
    attended_before(&app, &course, &venue, &people[0]).await;
    let s = app
        .post_ok(
            "/api/v1/sessions",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "capacity": 2,
                    "date": Utc::now().date_naive() + Duration::days(10), "start_time": "14:00",
                    "allocation": "lottery", "applications_close_at": rfc3339(Duration::days(2)),
                    "draw_at": rfc3339(Duration::days(3)), "first_timers_first": true}),
            201,
        )
        .await;
    assert_eq!(s["allocation"], "lottery");
    assert_eq!(s["drawn_at"], Value::Null);
    let s = s["id"].as_str().unwrap().to_owned();

    // Applications, not seats.
    for r in &people {
        let applied = app.book_ok(&s, r).await;
        assert_eq!(applied["status"], "applied", "{applied}");
    }
    assert_problem(app.book(&s, &people[1]).await, 409, "already_booked").await;
    let now = session(&app, &s).await;
    assert_eq!(
        (now["applications"].as_i64(), now["seats_taken"].as_i64()),
        (Some(5), Some(0))
    );
    assert_eq!(
        roster(&app, &s).await["applied"].as_array().unwrap().len(),
        5
    );
    // No first-come seat by another door before the draw.
    let walk_in = app
        .post(
            &format!("/api/v1/sessions/{s}/walk-ins"),
            &app.admin_token,
            &json!({"resident": {"family_name": "飛込", "given_name": "太郎",
                    "family_name_kana": "とびこみ", "given_name_kana": "たろう"}}),
        )
        .await;
    assert_problem(walk_in, 409, "lottery_pending").await;
    assert_problem(
        app.post(
            &format!("/api/v1/sessions/{s}/draw"),
            &app.admin_token,
            &json!({}),
        )
        .await,
        409,
        "applications_open",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/sessions/{s}/draw"), &app.admin_token)
            .await,
        404,
        "not_drawn",
    )
    .await;
    assert_eq!(draw_job(&app), 0, "not due yet");

    // Applications close; a late one is refused and changes nothing.
    app.post_ok(
        &format!("/api/v1/sessions/{s}/allocation"),
        &app.admin_token,
        &json!({"applications_close_at": rfc3339(Duration::minutes(-2)),
                "draw_at": rfc3339(Duration::minutes(-1))}),
        200,
    )
    .await;
    let late = app.resident_ok("遅刻", "花子", "ちこく").await;
    assert_problem(app.book(&s, &late).await, 409, "applications_closed").await;
    assert_eq!(session(&app, &s).await["applications"], 5);

    // Two instances' jobs and a coordinator's button at once: one draw.
    let (a, b) = (app.pool.clone(), app.pool.clone());
    let job = |pool: madoguchi::db::Pool| {
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            madoguchi::bookings::lottery::draw_due(&mut conn, RULE, 30).unwrap()
        })
    };
    let draw_path = format!("/api/v1/sessions/{s}/draw");
    let empty = json!({});
    let (one, two, button) = tokio::join!(
        job(a),
        job(b),
        app.post(&draw_path, &app.admin_token, &empty)
    );
    let by_button = usize::from(button.status() == 200);
    if by_button == 0 {
        assert_problem(button, 409, "already_drawn").await;
    }
    assert_eq!(
        one.unwrap() + two.unwrap() + by_button,
        1,
        "drawn exactly once"
    );
    assert_eq!(draw_job(&app), 0);
    assert_problem(
        app.post(
            &format!("/api/v1/sessions/{s}/draw"),
            &app.admin_token,
            &json!({}),
        )
        .await,
        409,
        "already_drawn",
    )
    .await;

    let after = session(&app, &s).await;
    assert!(after["drawn_at"].is_string());
    assert_eq!(
        (
            after["seats_taken"].as_i64(),
            after["waitlist_count"].as_i64(),
            after["applications"].as_i64()
        ),
        (Some(2), Some(3), Some(0))
    );
    assert_seats_add_up(&app, &s, 2, "after the draw");

    // The record: seed, ordered entries, and anyone can recompute it.
    let record = app
        .get_ok(&format!("/api/v1/sessions/{s}/draw"), &app.admin_token)
        .await;
    let seed = record["seed"].as_str().unwrap();
    assert_eq!(seed.len(), 64);
    assert_eq!(record["reproduced"], true);
    assert_eq!(record["applicants"], 5);
    assert_eq!(record["winners"], 2);
    let entries = record["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    let mut expected: Vec<(u8, String, String)> = entries
        .iter()
        .map(|e| {
            let booking = e["booking_id"].as_str().unwrap();
            let digest = Sha256::digest(format!("{seed}:{booking}").as_bytes());
            let ticket: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(
                e["ticket"],
                ticket.as_str(),
                "the ticket is sha256(seed:booking)"
            );
            let group = u8::from(!e["first_timer"].as_bool().unwrap());
            (group, ticket, booking.to_owned())
        })
        .collect();
    expected.sort();
    let drawn: Vec<&str> = entries
        .iter()
        .map(|e| e["booking_id"].as_str().unwrap())
        .collect();
    let recomputed: Vec<&str> = expected.iter().map(|(_, _, b)| b.as_str()).collect();
    assert_eq!(
        drawn, recomputed,
        "the stored order is the recomputed order"
    );
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["position"], i + 1);
        assert_eq!(e["outcome"], if i < 2 { "won" } else { "waitlisted" });
        assert!(e["why"].as_str().unwrap().contains("drawn"));
    }
    // The one who came before was drawn after every first-timer.
    let last = &entries[4];
    assert_eq!(last["resident"]["id"], people[0].as_str());
    assert_eq!(last["first_timer"], false);
    assert_eq!(last["group"], 1);
    assert!(record["how"].as_str().unwrap().contains("never attended"));

    // Everyone hears: winners and the waitlisted on the call list.
    assert_eq!(calls_about(&app, "lottery_won").await.len(), 2);
    let waiting = calls_about(&app, "lottery_waitlisted").await;
    assert_eq!(waiting.len(), 3);
    assert!(
        waiting
            .iter()
            .any(|c| c["script"].as_str().unwrap().contains("1番目")),
        "{waiting:?}"
    );

    // Afterwards the session behaves as today: a cancellation promotes the
    // first of the drawn waitlist; a new booking joins the waitlist.
    let winner = entries[0]["booking_id"].as_str().unwrap();
    let cancelled = app
        .post_ok(
            &format!("/api/v1/bookings/{winner}/cancel"),
            &app.admin_token,
            &json!({"reason": "体調不良"}),
            200,
        )
        .await;
    assert_eq!(cancelled["promoted"]["id"], entries[2]["booking_id"]);
    let newcomer = app.book_ok(&s, &late).await;
    assert_eq!(newcomer["status"], "waitlisted");
    assert_eq!(newcomer["waitlist_position"], 3);
    assert_seats_add_up(&app, &s, 2, "after the cancellation");
    let audit = app
        .get_ok("/api/v1/audit?action=session.draw", &app.admin_token)
        .await;
    assert!(audit.to_string().contains("lottery drawn"), "{audit}");
}

async fn residents_who_often_miss_are_drawn_last_when_the_organisation_says_so(db: Db) {
    let app = spawn_app(db).await;
    let people = app.residents_ok(4).await;
    // 住民 3 misses two classes.
    for _ in 0..2 {
        let past = app.session_ok(5, json!({})).await;
        app.book_ok(&past, &people[3]).await;
        app.set_session_start(&past, Duration::minutes(-90));
        app.post_ok(
            &format!("/api/v1/sessions/{past}/close"),
            &app.admin_token,
            &json!({}),
            200,
        )
        .await;
    }
    let org = app
        .patch(
            "/api/v1/organisation",
            &app.admin_token,
            &json!({"lottery_no_shows_last": true}),
        )
        .await;
    assert_eq!(org.status(), 200);
    let s = app
        .session_ok(
            1,
            json!({"allocation": "lottery", "draw_at": rfc3339(Duration::days(1)), "waitlist_enabled": false}),
        )
        .await;
    let mut warned = None;
    for r in &people {
        let applied = app.book_ok(&s, r).await;
        if r == &people[3] {
            warned = Some(applied["warnings"][0]["code"].clone());
        }
    }
    assert_eq!(
        warned,
        Some(json!("recent_no_shows")),
        "staff are told when they apply"
    );
    app.post_ok(
        &format!("/api/v1/sessions/{s}/allocation"),
        &app.admin_token,
        &json!({"applications_close_at": rfc3339(Duration::minutes(-2)), "draw_at": rfc3339(Duration::minutes(-1))}),
        200,
    )
    .await;
    let record = app
        .post_ok(
            &format!("/api/v1/sessions/{s}/draw"),
            &app.admin_token,
            &json!({}),
            200,
        )
        .await;
    assert_eq!(record["no_shows_last"], true);
    assert_eq!(record["reproduced"], true);
    let entries = record["entries"].as_array().unwrap();
    assert_eq!(entries[3]["resident"]["id"], people[3].as_str());
    assert_eq!(entries[3]["recent_no_shows"], true);
    assert_eq!(entries[3]["group"], 2);
    // No waitlist: one seat won, the rest told they were not drawn.
    let outcomes: Vec<&str> = entries
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["won", "not_drawn", "not_drawn", "not_drawn"]);
    assert_eq!(entries[1]["status_now"], "cancelled");
    assert_eq!(calls_about(&app, "lottery_not_drawn").await.len(), 3);
    assert_seats_add_up(&app, &s, 1, "after the draw");
}

async fn lottery_and_offer_rules_are_checked(db: Db) {
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    let base = json!({"course_id": course, "venue_id": venue,
                      "date": Utc::now().date_naive() + Duration::days(10), "start_time": "14:00"});
    let with = |extra: Value| {
        let mut body = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (extra, field) in [
        (json!({"allocation": "lottery"}), "draw_at"),
        (
            json!({"allocation": "lottery", "draw_at": rfc3339(Duration::days(2)), "applications_close_at": rfc3339(Duration::days(3))}),
            "applications_close_at",
        ),
        (
            json!({"allocation": "lottery", "draw_at": rfc3339(Duration::days(20))}),
            "draw_at",
        ),
        (json!({"offer_hours": 0}), "offer_hours"),
        (json!({"offer_hours": 721}), "offer_hours"),
        (json!({"draw_at": rfc3339(Duration::days(2))}), "allocation"),
    ] {
        let res = app
            .post("/api/v1/sessions", &app.admin_token, &with(extra.clone()))
            .await;
        let body = assert_problem(res, 422, "validation_failed").await;
        assert!(
            body["errors"].to_string().contains(field),
            "{extra} names {field}: {body}"
        );
    }
    assert!(
        app.get_ok("/api/v1/sessions?limit=50", &app.admin_token)
            .await["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was created"
    );
    // A series: sessions after the draw are a lottery, those before first come.
    let series = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=DAILY", "count": 6,
                    "starts_on": Utc::now().date_naive() + Duration::days(1), "start_time": "14:00",
                    "allocation": "lottery", "draw_at": (Utc::now().date_naive() + Duration::days(3)).and_hms_opt(3, 0, 0).unwrap().and_utc().to_rfc3339(),
                    "offer_hours": 24}),
            201,
        )
        .await;
    assert_eq!(series["series"]["allocation"], "lottery");
    assert_eq!(series["series"]["offer_hours"], 24);
    let sessions = app
        .get_ok(
            &format!(
                "/api/v1/sessions?series_id={}&limit=50",
                series["series"]["id"].as_str().unwrap()
            ),
            &app.admin_token,
        )
        .await;
    let kinds: Vec<&str> = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["allocation"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "first_come",
            "first_come",
            "lottery",
            "lottery",
            "lottery",
            "lottery"
        ]
    );
    assert!(
        sessions["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["offer_hours"] == 24)
    );
    // An enrolment promises every seat: not while a draw is to come.
    let enrolling = app.residents_ok(1).await;
    let enrol = app
        .post(
            &format!(
                "/api/v1/series/{}/enrolments",
                series["series"]["id"].as_str().unwrap()
            ),
            &app.admin_token,
            &json!({"resident_id": enrolling[0], "channel": "phone"}),
        )
        .await;
    let refused = assert_problem(enrol, 409, "lottery_pending").await;
    assert_eq!(refused["session_id"], sessions["items"][2]["id"]);
    let held = app
        .get_ok(
            &format!("/api/v1/bookings?resident_id={}", enrolling[0]),
            &app.admin_token,
        )
        .await;
    assert!(
        held["items"].as_array().unwrap().is_empty(),
        "nothing booked"
    );
    // A first-come session with bookings cannot turn into a lottery.
    let first = sessions["items"][0]["id"].as_str().unwrap();
    let r = app.residents_ok(1).await;
    app.book_ok(first, &r[0]).await;
    let res = app
        .post(
            &format!("/api/v1/sessions/{first}/allocation"),
            &app.admin_token,
            &json!({"allocation": "lottery", "draw_at": rfc3339(Duration::hours(1))}),
        )
        .await;
    assert_problem(res, 409, "has_bookings").await;
    // Accepting what is not an offer.
    let b = app.book_ok(first, &app.residents_ok(1).await[0]).await;
    let res = app
        .post(
            &format!(
                "/api/v1/bookings/{}/accept-offer",
                b["id"].as_str().unwrap()
            ),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "not_offered").await;
}

async fn a_freed_seat_is_held_for_the_next_in_line_and_passes_on(db: Db) {
    let app = spawn_app(db).await;
    let s = app.session_ok(1, json!({"offer_hours": 24})).await;
    let people = app.residents_ok(5).await;
    let mut bookings = Vec::new();
    for r in &people[..4] {
        bookings.push(app.book_ok(&s, r).await["id"].as_str().unwrap().to_owned());
    }
    let (a, b, c, d) = (&bookings[0], &bookings[1], &bookings[2], &bookings[3]);

    // A cancels: the seat is held for B, not given, not free.
    let cancelled = app
        .post_ok(
            &format!("/api/v1/bookings/{a}/cancel"),
            &app.admin_token,
            &json!({"reason": "都合"}),
            200,
        )
        .await;
    assert_eq!(cancelled["promoted"], Value::Null);
    assert_eq!(cancelled["offered"]["id"], b.as_str());
    assert_eq!(cancelled["offered"]["status"], "offered");
    let until = chrono::DateTime::parse_from_rfc3339(
        cancelled["offered"]["offer_expires_at"].as_str().unwrap(),
    )
    .unwrap();
    let hours = (until.with_timezone(&Utc) - Utc::now()).num_minutes();
    assert!(
        (23 * 60..=24 * 60).contains(&hours),
        "held 24 hours: {hours} min"
    );
    let now = session(&app, &s).await;
    assert_eq!(
        (
            now["seats_taken"].as_i64(),
            now["seats_left"].as_i64(),
            now["waitlist_count"].as_i64()
        ),
        (Some(1), Some(0), Some(2))
    );
    assert_seats_add_up(&app, &s, 1, "while held");
    // Nobody else can take it.
    let newcomer = app.book_ok(&s, &people[4]).await;
    assert_eq!(newcomer["status"], "waitlisted");
    let calls = calls_about(&app, "seat_offered").await;
    assert_eq!(calls.len(), 1);
    assert!(calls[0]["script"].as_str().unwrap().contains("お取り置き"));
    assert_eq!(roster(&app, &s).await["offered"][0]["id"], b.as_str());

    // B declines: held for C.
    let declined = app
        .post_ok(
            &format!("/api/v1/bookings/{b}/decline-offer"),
            &app.admin_token,
            &json!({"reason": "都合がつかない"}),
            200,
        )
        .await;
    assert_eq!(declined["booking"]["status"], "cancelled");
    assert_eq!(declined["offered"]["id"], c.as_str());
    assert_problem(
        app.post(
            &format!("/api/v1/bookings/{b}/accept-offer"),
            &app.admin_token,
            &json!({}),
        )
        .await,
        409,
        "not_offered",
    )
    .await;

    // C does not answer in time: refused at the desk, then the job passes it on to D.
    let_offer_lapse(&app, c);
    assert_problem(
        app.post(
            &format!("/api/v1/bookings/{c}/accept-offer"),
            &app.admin_token,
            &json!({}),
        )
        .await,
        409,
        "offer_expired",
    )
    .await;
    assert_eq!(expire_job(&app), 1);
    assert_eq!(expire_job(&app), 0, "once");
    let c_now = app
        .get_ok(&format!("/api/v1/bookings/{c}"), &app.admin_token)
        .await;
    assert_eq!(c_now["status"], "cancelled");
    let d_now = app
        .get_ok(&format!("/api/v1/bookings/{d}"), &app.admin_token)
        .await;
    assert_eq!(d_now["status"], "offered");
    assert_seats_add_up(&app, &s, 1, "after the expiry");

    // D says yes: confirmed, the seat was never free.
    let accepted = app
        .post_ok(
            &format!("/api/v1/bookings/{d}/accept-offer"),
            &app.admin_token,
            &json!({}),
            200,
        )
        .await;
    assert_eq!(accepted["booking"]["status"], "confirmed");
    let now = session(&app, &s).await;
    assert_eq!(
        (now["seats_taken"].as_i64(), now["waitlist_count"].as_i64()),
        (Some(1), Some(1))
    );
    assert_seats_add_up(&app, &s, 1, "after the answer");
    // A session that promotes at once still does (offer_hours: null).
    app.post_ok(
        &format!("/api/v1/sessions/{s}/allocation"),
        &app.admin_token,
        &json!({"offer_hours": null}),
        200,
    )
    .await;
    let res = app
        .post_ok(
            &format!("/api/v1/bookings/{d}/cancel"),
            &app.admin_token,
            &json!({"reason": "入院"}),
            200,
        )
        .await;
    assert_eq!(res["promoted"]["id"], newcomer["id"]);
    assert_eq!(res["offered"], Value::Null);
    assert_seats_add_up(&app, &s, 1, "after the promotion");
}

/// Cancellations, answers and expiries all at once, round after round:
/// never a seat given twice or lost.
async fn parallel_cancellations_answers_and_expiries_keep_every_seat(db: Db) {
    let app = spawn_app(db).await;
    let capacity = 4;
    let s = app.session_ok(capacity, json!({"offer_hours": 2})).await;
    let people = app.residents_ok(16).await;
    let mut confirmed = Vec::new();
    for r in &people {
        let b = app.book_ok(&s, r).await;
        if b["status"] == "confirmed" {
            confirmed.push(b["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(confirmed.len(), capacity as usize);
    // Every confirmed seat cancelled at once: each becomes an offer.
    let reason = json!({"reason": "一斉"});
    let paths: Vec<String> = confirmed
        .iter()
        .map(|b| format!("/api/v1/bookings/{b}/cancel"))
        .collect();
    let cancels = paths.iter().map(|p| app.post(p, &app.admin_token, &reason));
    for res in futures::future::join_all(cancels).await {
        assert_eq!(res.status(), 200);
    }
    assert_seats_add_up(&app, &s, capacity, "after parallel cancellations");
    assert_eq!(counts(&app, &s).2, capacity, "every freed seat is held");

    for round in 0..4 {
        let offered = ids(&roster(&app, &s).await["offered"]);
        if offered.is_empty() {
            break;
        }
        // Half the offers have lapsed; each offer is accepted and declined
        // at once, while the expiry job runs.
        for b in offered.iter().step_by(2) {
            let_offer_lapse(&app, b);
        }
        let empty = json!({});
        let paths: Vec<String> = offered
            .iter()
            .flat_map(|b| {
                [
                    format!("/api/v1/bookings/{b}/accept-offer"),
                    format!("/api/v1/bookings/{b}/decline-offer"),
                ]
            })
            .collect();
        let answers: Vec<_> = paths
            .iter()
            .map(|p| app.post(p, &app.admin_token, &empty))
            .collect();
        // The expiry job of two instances at once, while the desk answers.
        let expiry = |pool: madoguchi::db::Pool| {
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().unwrap();
                madoguchi::bookings::offers::expire_due(&mut conn, 30).unwrap()
            })
        };
        let (answers, one, two) = tokio::join!(
            futures::future::join_all(answers),
            expiry(app.pool.clone()),
            expiry(app.pool.clone())
        );
        let expired = one.unwrap() + two.unwrap();
        let mut won = 0;
        for (i, res) in answers.into_iter().enumerate() {
            let status = res.status().as_u16();
            if status == 200 {
                won += 1;
            } else {
                let body: Value = res.json().await.unwrap();
                assert_eq!(status, 409, "round {round}: {body}");
                assert!(
                    ["not_offered", "offer_expired"].contains(&body["code"].as_str().unwrap()),
                    "round {round} answer {i}: {body}"
                );
            }
        }
        assert_eq!(
            won + expired,
            offered.len(),
            "round {round}: each offer answered or expired exactly once"
        );
        assert_seats_add_up(&app, &s, capacity, &format!("round {round}"));
    }
    let (taken, confirmed, offered, waitlisted, _) = counts(&app, &s);
    assert_eq!(i64::from(taken), confirmed + offered);
    let now = session(&app, &s).await;
    assert_eq!(now["waitlist_count"].as_i64(), Some(waitlisted));
    // Seats are only ever free when nobody is waiting.
    assert!(confirmed + offered == capacity || waitlisted == 0);
}

db_tests!(
    a_lottery_takes_applications_draws_once_and_explains_itself,
    residents_who_often_miss_are_drawn_last_when_the_organisation_says_so,
    lottery_and_offer_rules_are_checked,
    a_freed_seat_is_held_for_the_next_in_line_and_passes_on,
    parallel_cancellations_answers_and_expiries_keep_every_seat,
);
