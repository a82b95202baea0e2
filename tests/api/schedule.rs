//! Series, sessions, closures and availability.

use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use diesel::prelude::*;
use madoguchi::calendar::holidays::Calendar;
use madoguchi::db::schema::sessions;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, Db, TestApp, assert_problem, db_tests, seed_organisation, spawn_app_with,
};

fn today_in(tz: chrono_tz::Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

fn next(weekday: Weekday, after: NaiveDate) -> NaiveDate {
    let mut d = after + Duration::days(1);
    while d.weekday() != weekday {
        d += Duration::days(1);
    }
    d
}

async fn app_with_horizon(db: Db, days: u32) -> TestApp {
    spawn_app_with(db, |s| s.schedule.horizon_days = days).await
}

fn set_bookings(app: &TestApp, session: &str, seats_taken: i32, waitlist: i32) {
    let mut conn = app.pool.get().unwrap();
    diesel::update(sessions::table.filter(sessions::id.eq(session)))
        .set((
            sessions::seats_taken.eq(seats_taken),
            sessions::waitlist_count.eq(waitlist),
        ))
        .execute(&mut *conn)
        .unwrap();
}

fn session_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    sessions::table.count().get_result(&mut *conn).unwrap()
}

async fn sessions_of(app: &TestApp, series: &str) -> Vec<Value> {
    let page = app
        .get_ok(
            &format!("/api/v1/sessions?series_id={series}&limit=200"),
            &app.admin_token,
        )
        .await;
    page["items"].as_array().unwrap().clone()
}

fn dates_of(sessions: &[Value]) -> Vec<String> {
    sessions
        .iter()
        .map(|s| s["local"]["date"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_weekly_series_stores_its_sessions_up_to_the_horizon(db: Db) {
    let app = app_with_horizon(db, 35).await;
    let (venue, course) = app.venue_and_course().await;
    let (instructor, _) = app
        .staff_with_token("tanaka@kita.example", "instructor")
        .await;
    let first = next(Weekday::Tue, today_in(chrono_tz::Asia::Tokyo));
    let saved = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY;BYDAY=TU", "starts_on": first,
                    "start_time": "14:00", "instructor_ids": [instructor["id"]], "loaner_fee_yen": 200}),
            201,
        )
        .await;
    let series = &saved["series"];
    assert_eq!(
        series["end_time"], "16:00:00",
        "default length from the course"
    );
    assert_eq!(series["capacity"], 20, "default capacity from the venue");
    assert_eq!(series["timezone"], "Asia/Tokyo");
    let horizon_end = today_in(chrono_tz::Asia::Tokyo) + Duration::days(35);
    let calendar = Calendar::new();
    let expected: Vec<String> = (0..6)
        .map(|w| first + Duration::weeks(w))
        .filter(|d| *d <= horizon_end && !calendar.is_holiday(*d))
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        saved["sessions"]["added"].as_array().unwrap().len(),
        expected.len()
    );
    let listed = sessions_of(&app, series["id"].as_str().unwrap()).await;
    assert_eq!(dates_of(&listed), expected);
    let s = &listed[0];
    assert_eq!(s["local"]["start_time"], "14:00:00");
    assert_eq!(s["local"]["weekday"], "tuesday");
    assert!(
        s["starts_at"].as_str().unwrap().ends_with("T05:00:00Z"),
        "14:00 JST is 05:00 UTC: {s}"
    );
    assert_eq!(s["seats_left"], 20);
    assert_eq!(s["seats_taken"], 0);
    assert_eq!(s["waitlist_count"], 0);
    assert_eq!(s["fee_yen"], 100);
    assert_eq!(s["loaner_fee_yen"], 200);
    assert_eq!(s["status"], "scheduled");
    assert_eq!(s["course"]["title"], "はじめてのスマホ教室");
    assert_eq!(s["venue"]["name"], "北公民館");
    assert_eq!(s["instructors"][0]["name"], "Staff tanaka@kita.example");
    let log = app
        .get_ok("/api/v1/audit?action=series.create", &app.admin_token)
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
}

async fn public_holidays_and_closures_are_skipped(db: Db) {
    let app = app_with_horizon(db, 130).await;
    let (venue, course) = app.venue_and_course().await;
    let calendar = Calendar::new();
    let today = today_in(chrono_tz::Asia::Tokyo);
    let holiday = (2..120)
        .map(|n| today + Duration::days(n))
        .find(|d| calendar.is_holiday(*d))
        .expect("a holiday within 120 days");
    let closed = holiday + Duration::days(2);
    app.post_ok(
        "/api/v1/closures",
        &app.admin_token,
        &json!({"start_date": closed, "end_date": closed, "reason": "館内点検"}),
        201,
    )
    .await;
    let saved = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=DAILY", "starts_on": holiday - Duration::days(1),
                    "until": holiday + Duration::days(3), "start_time": "10:00", "end_time": "11:00"}),
            201,
        )
        .await;
    let dates = dates_of(&sessions_of(&app, saved["series"]["id"].as_str().unwrap()).await);
    assert!(
        !dates.contains(&holiday.to_string()),
        "{holiday} ({:?}) skipped: {dates:?}",
        calendar.name(holiday)
    );
    assert!(
        !dates.contains(&closed.to_string()),
        "closure skipped: {dates:?}"
    );
    assert!(
        dates.contains(&(holiday - Duration::days(1)).to_string())
            || calendar.is_holiday(holiday - Duration::days(1))
    );

    // A closure added later lists the sessions it overlaps instead of
    // cancelling them.
    let last = holiday + Duration::days(3);
    let closure = app
        .post_ok("/api/v1/closures", &app.admin_token, &json!({"start_date": last, "end_date": last, "start_time": "09:00", "end_time": "12:00", "reason": "停電"}), 201)
        .await;
    let overlapping = closure["overlapping_sessions"].as_array().unwrap();
    if !calendar.is_holiday(last) {
        assert_eq!(overlapping.len(), 1);
        assert_eq!(overlapping[0]["status"], "scheduled");
    }
    let closures = app.get_ok("/api/v1/closures", &app.admin_token).await;
    assert_eq!(closures.as_array().unwrap().len(), 2);
    let id = closure["closure"]["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/closures/{id}"), &app.admin_token)
            .await
            .status(),
        204
    );
    assert_problem(
        app.delete(&format!("/api/v1/closures/{id}"), &app.admin_token)
            .await,
        404,
        "not_found",
    )
    .await;
}

async fn a_weekly_session_stays_at_14_00_local_across_daylight_saving(db: Db) {
    let app = app_with_horizon(db, 220).await;
    app.patch(
        "/api/v1/organisation",
        &app.admin_token,
        &json!({"timezone": "Europe/Berlin"}),
    )
    .await;
    let (venue, course) = app.venue_and_course().await;
    let berlin = chrono_tz::Europe::Berlin;
    let today = today_in(berlin);
    let offset = |d: NaiveDate| {
        use chrono::{Offset, TimeZone};
        berlin
            .from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
            .offset()
            .fix()
            .local_minus_utc()
    };
    let change = (2..200)
        .map(|n| today + Duration::days(n))
        .find(|d| offset(*d) != offset(*d - Duration::days(1)))
        .expect("a DST change");
    let saved = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=DAILY", "starts_on": change - Duration::days(3),
                    "until": change + Duration::days(3), "start_time": "14:00", "skip_public_holidays": false}),
            201,
        )
        .await;
    let listed = sessions_of(&app, saved["series"]["id"].as_str().unwrap()).await;
    assert_eq!(listed.len(), 7);
    for s in &listed {
        assert_eq!(s["local"]["start_time"], "14:00:00", "{s}");
        assert_eq!(s["local"]["timezone"], "Europe/Berlin");
    }
    let utc_hour = |s: &Value| s["starts_at"].as_str().unwrap()[11..13].to_owned();
    assert_ne!(
        utc_hour(&listed[0]),
        utc_hour(&listed[6]),
        "the UTC instant shifts with the clocks"
    );
}

async fn editing_a_series_moves_free_sessions_and_keeps_booked_ones(db: Db) {
    let app = app_with_horizon(db, 60).await;
    let (venue, course) = app.venue_and_course().await;
    let first = next(Weekday::Wed, today_in(chrono_tz::Asia::Tokyo));
    let saved = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY;BYDAY=WE", "starts_on": first,
                    "start_time": "10:00", "skip_public_holidays": false}),
            201,
        )
        .await;
    let series = saved["series"]["id"].as_str().unwrap().to_owned();
    let before = sessions_of(&app, &series).await;
    assert!(before.len() >= 6);
    let booked = before[1]["id"].as_str().unwrap().to_owned();
    set_bookings(&app, &booked, 3, 1);

    // Move the class to 13:00: every session follows but the booked one.
    let res = app
        .patch(
            &format!("/api/v1/series/{series}"),
            &app.admin_token,
            &json!({"start_time": "13:00", "end_time": "15:00"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    let report = &report["sessions"];
    assert_eq!(
        report["updated"].as_array().unwrap().len(),
        before.len() - 1
    );
    assert_eq!(report["kept"][0]["session_id"], booked.as_str());
    assert!(
        report["kept"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("4 booking")
    );
    let after = sessions_of(&app, &series).await;
    for s in &after {
        let expected = if s["id"] == booked.as_str() {
            "10:00:00"
        } else {
            "13:00:00"
        };
        assert_eq!(s["local"]["start_time"], expected);
    }

    // Every other week only: free sessions in between go, the booked one stays.
    let res = app
        .patch(
            &format!("/api/v1/series/{series}"),
            &app.admin_token,
            &json!({"rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"}),
        )
        .await;
    let report: Value = res.json().await.unwrap();
    let removed = report["sessions"]["removed"].as_array().unwrap();
    assert!(!removed.is_empty());
    assert!(
        !removed.iter().any(|id| id == booked.as_str()),
        "a booked session is never silently deleted"
    );
    assert!(
        report["sessions"]["kept"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["session_id"] == booked.as_str())
    );
    let remaining = sessions_of(&app, &series).await;
    assert!(remaining.iter().any(|s| s["id"] == booked.as_str()));
    assert_eq!(remaining.len(), after.len() - removed.len());

    // Lowering the series capacity below a session's bookings keeps that session's capacity.
    let res = app
        .patch(
            &format!("/api/v1/series/{series}"),
            &app.admin_token,
            &json!({"capacity": 2}),
        )
        .await;
    let report: Value = res.json().await.unwrap();
    assert!(
        report["sessions"]["kept"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["session_id"] == booked.as_str())
    );
    let session = app
        .get_ok(&format!("/api/v1/sessions/{booked}"), &app.admin_token)
        .await;
    assert_eq!(session["capacity"], 20);
}

async fn single_sessions_are_cancelled_moved_and_resized(db: Db) {
    let app = app_with_horizon(db, 30).await;
    let (venue, course) = app.venue_and_course().await;
    let day = today_in(chrono_tz::Asia::Tokyo) + Duration::days(10);
    let session = app
        .post_ok("/api/v1/sessions", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "09:30", "capacity": 8}), 201)
        .await;
    assert_eq!(session["series_id"], Value::Null);
    assert_eq!(session["local"]["end_time"], "11:30:00");
    assert_eq!(session["capacity"], 8);
    let id = session["id"].as_str().unwrap().to_owned();

    set_bookings(&app, &id, 5, 0);
    let res = app
        .post(
            &format!("/api/v1/sessions/{id}/resize"),
            &app.admin_token,
            &json!({"capacity": 4}),
        )
        .await;
    let problem = assert_problem(res, 409, "capacity_below_booked").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("5 seats are booked")
    );
    let resized = app
        .post_ok(
            &format!("/api/v1/sessions/{id}/resize"),
            &app.admin_token,
            &json!({"capacity": 5}),
            200,
        )
        .await;
    assert_eq!(resized["seats_left"], 0);
    let res = app
        .post(
            &format!("/api/v1/sessions/{id}/resize"),
            &app.admin_token,
            &json!({"capacity": 0}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;

    let moved = app
        .post_ok(
            &format!("/api/v1/sessions/{id}/move"),
            &app.admin_token,
            &json!({"date": day + Duration::days(1), "start_time": "13:00", "end_time": "15:00"}),
            200,
        )
        .await;
    assert_eq!(
        moved["local"]["date"],
        (day + Duration::days(1)).to_string()
    );
    assert_eq!(moved["local"]["start_time"], "13:00:00");
    assert_eq!(moved["detached"], true);
    let res = app
        .post(
            &format!("/api/v1/sessions/{id}/move"),
            &app.admin_token,
            &json!({"start_time": "15:00", "end_time": "14:00"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;

    let cancelled = app
        .post_ok(
            &format!("/api/v1/sessions/{id}/cancel"),
            &app.admin_token,
            &json!({"reason": "講師急病"}),
            200,
        )
        .await;
    assert_eq!(cancelled["session"]["status"], "cancelled");
    assert_eq!(cancelled["session"]["cancel_reason"], "講師急病");
    let res = app
        .post(
            &format!("/api/v1/sessions/{id}/cancel"),
            &app.admin_token,
            &json!({"reason": "again"}),
        )
        .await;
    assert_problem(res, 409, "invalid_state").await;
    let res = app
        .post(
            &format!("/api/v1/sessions/{id}/move"),
            &app.admin_token,
            &json!({"start_time": "10:00"}),
        )
        .await;
    assert_problem(res, 409, "invalid_state").await;

    let res = app
        .post("/api/v1/sessions", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "date": today_in(chrono_tz::Asia::Tokyo) - Duration::days(1), "start_time": "09:30"}))
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "date");
}

async fn availability_lists_only_sessions_with_free_seats(db: Db) {
    let app = app_with_horizon(db, 40).await;
    let (venue, course) = app.venue_and_course().await;
    let first = next(Weekday::Thu, today_in(chrono_tz::Asia::Tokyo));
    let saved = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY;BYDAY=TH", "starts_on": first, "start_time": "10:00",
                    "capacity": 3, "skip_public_holidays": false}),
            201,
        )
        .await;
    let all = sessions_of(&app, saved["series"]["id"].as_str().unwrap()).await;
    let full = all[0]["id"].as_str().unwrap();
    set_bookings(&app, full, 3, 2);
    let cancelled = all[1]["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/sessions/{cancelled}/cancel"),
        &app.admin_token,
        &json!({"reason": "中止"}),
        200,
    )
    .await;

    let available = app
        .get_ok(
            &format!("/api/v1/sessions?available=true&venue_id={venue}&limit=200"),
            &app.admin_token,
        )
        .await;
    let ids: Vec<&str> = available["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), all.len() - 2);
    assert!(!ids.contains(&full) && !ids.contains(&cancelled));
    let one = app
        .get_ok(&format!("/api/v1/sessions/{full}"), &app.admin_token)
        .await;
    assert_eq!(
        (
            one["seats_taken"].as_i64(),
            one["seats_left"].as_i64(),
            one["waitlist_count"].as_i64()
        ),
        (Some(3), Some(0), Some(2))
    );

    // Pages of 2 walk every session once, in start order.
    let mut seen = Vec::new();
    let mut path = "/api/v1/sessions?limit=2".to_owned();
    loop {
        let page = app.get_ok(&path, &app.admin_token).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["starts_at"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/sessions?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), all.len());
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    let to = (first + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let window = app
        .get_ok(&format!("/api/v1/sessions?to={to}"), &app.admin_token)
        .await;
    assert_eq!(window["items"].as_array().unwrap().len(), 1);
    let res = app
        .get("/api/v1/sessions?cursor=garbage", &app.admin_token)
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

async fn instructors_see_their_own_sessions_and_cannot_write(db: Db) {
    let app = app_with_horizon(db, 30).await;
    let (venue, course) = app.venue_and_course().await;
    let (tanaka, tanaka_token) = app
        .staff_with_token("tanaka@kita.example", "instructor")
        .await;
    let (_, sato_token) = app
        .staff_with_token("sato@kita.example", "instructor")
        .await;
    let day = today_in(chrono_tz::Asia::Tokyo) + Duration::days(5);
    app.post_ok("/api/v1/sessions", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "10:00", "instructor_ids": [tanaka["id"]]}), 201)
        .await;
    app.post_ok(
        "/api/v1/sessions",
        &app.admin_token,
        &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "14:00"}),
        201,
    )
    .await;
    let mine = app.get_ok("/api/v1/me/sessions", &tanaka_token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["local"]["start_time"], "10:00:00");
    let theirs = app.get_ok("/api/v1/me/sessions", &sato_token).await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        app.get_ok("/api/v1/sessions", &sato_token).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "everyone reads the schedule"
    );
    let res = app
        .post("/api/v1/series", &tanaka_token, &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=DAILY", "starts_on": day, "start_time": "10:00"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let (volunteer, _) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let res = app
        .post("/api/v1/sessions", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "16:00", "instructor_ids": [volunteer["id"]]}))
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "instructor_ids");
}

async fn bad_series_are_refused_and_nothing_is_written(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.schedule.horizon_days = 60;
        s.schedule.max_sessions_per_series = 20;
    })
    .await;
    let (venue, course) = app.venue_and_course().await;
    let day = today_in(chrono_tz::Asia::Tokyo) + Duration::days(3);
    let base = json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY;BYDAY=MO", "starts_on": day, "start_time": "10:00"});
    let with = |patch: Value| {
        let mut body = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let audit_before = app.audit_count();
    for (body, field) in [
        (with(json!({"rrule": "EVERY TUESDAY"})), "rrule"),
        (with(json!({"rrule": "FREQ=MINUTELY"})), "rrule"),
        (
            with(json!({"rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=3"})),
            "rrule",
        ),
        (with(json!({"end_time": "09:00"})), "end_time"),
        (with(json!({"capacity": 0})), "capacity"),
        (with(json!({"capacity": -4})), "capacity"),
        (with(json!({"fee_yen": -1})), "fee_yen"),
        (with(json!({"until": day - Duration::days(1)})), "until"),
        (
            with(json!({"course_id": uuid::Uuid::now_v7()})),
            "course_id",
        ),
        (with(json!({"venue_id": uuid::Uuid::now_v7()})), "venue_id"),
        (
            with(json!({"instructor_ids": [uuid::Uuid::now_v7()]})),
            "instructor_ids",
        ),
        (with(json!({"starts_on": "2027-02-30"})), "starts_on"),
        (with(json!({"start_time": "25:00"})), "start_time"),
    ] {
        let res = app.post("/api/v1/series", &app.admin_token, &body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let res = app
        .post(
            "/api/v1/series",
            &app.admin_token,
            &with(json!({"rrule": "FREQ=DAILY"})),
        )
        .await;
    assert_problem(res, 422, "too_many_sessions").await;
    assert_eq!(session_count(&app), 0, "no sessions written");
    assert_eq!(app.audit_count(), audit_before, "nothing written");
    let list = app.get_ok("/api/v1/series", &app.admin_token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

async fn another_organisations_schedule_answers_404(db: Db) {
    let app = app_with_horizon(db, 30).await;
    let (venue, course) = app.venue_and_course().await;
    let day = next(Weekday::Fri, today_in(chrono_tz::Asia::Tokyo));
    let saved = app
        .post_ok("/api/v1/series", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY;BYDAY=FR", "starts_on": day, "start_time": "10:00", "skip_public_holidays": false}), 201)
        .await;
    let series = saved["series"]["id"].as_str().unwrap().to_owned();
    let session = saved["sessions"]["added"][0].as_str().unwrap().to_owned();
    let (_, minami) = seed_organisation(&app.pool, "Minami", "admin@minami.example");
    let token = app.login_ok(&minami, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.get(&format!("/api/v1/series/{series}"), &token).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch(
            &format!("/api/v1/series/{series}"),
            &token,
            &json!({"capacity": 1}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/sessions/{session}"), &token)
            .await,
        404,
        "not_found",
    )
    .await;
    for action in ["cancel", "move", "resize", "instructors"] {
        let body =
            json!({"reason": "x", "capacity": 1, "instructor_ids": [], "start_time": "11:00"});
        let body = match action {
            "cancel" => json!({"reason": body["reason"]}),
            "resize" => json!({"capacity": 1}),
            "instructors" => json!({"instructor_ids": []}),
            _ => json!({"start_time": "11:00"}),
        };
        let res = app
            .post(
                &format!("/api/v1/sessions/{session}/{action}"),
                &token,
                &body,
            )
            .await;
        assert_problem(res, 404, "not_found").await;
    }
    // Using Kita's venue or course in Minami's own series is refused too.
    let res = app
        .post("/api/v1/series", &token, &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=DAILY", "starts_on": day, "start_time": "10:00"}))
        .await;
    assert_problem(res, 422, "validation_failed").await;
    assert_eq!(
        app.get_ok("/api/v1/sessions", &token).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let still = app
        .get_ok(&format!("/api/v1/sessions/{session}"), &app.admin_token)
        .await;
    assert_eq!(still["status"], "scheduled");
}

/// The availability list answers the same page from memory: a change made
/// outside this instance (here straight in the database) shows only after
/// `list_cache_ms`, but anything written through this instance shows in
/// the next answer, and the caller is checked on every request.
async fn the_list_keeps_a_page_until_this_instance_writes(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.list_cache_ms = 60_000).await;
    let session = app.session_ok(3, json!({})).await;
    let (coordinator, token) = app
        .staff_with_token("sato@kita.example", "coordinator")
        .await;
    let path = "/api/v1/sessions?limit=50";
    let seats = |page: &Value| -> Vec<(String, i64)> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_owned(),
                    s["seats_taken"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let before = app.get_ok(path, &token).await;
    assert_eq!(seats(&before), vec![(session.clone(), 0)]);

    // Another instance's change: this one still answers the kept page.
    set_bookings(&app, &session, 2, 0);
    assert_eq!(app.get_ok(path, &token).await, before);
    // A different query is read afresh.
    let fresh = app.get_ok("/api/v1/sessions?limit=49", &token).await;
    assert_eq!(seats(&fresh), vec![(session.clone(), 2)]);

    // A booking through this instance drops the kept pages at once.
    let resident = app.resident_ok("山田", "太郎", "ヤマダ").await;
    app.post_ok(
        &format!("/api/v1/sessions/{session}/bookings"),
        &token,
        &json!({"resident_id": resident, "channel": "phone"}),
        201,
    )
    .await;
    assert_eq!(
        seats(&app.get_ok(path, &token).await),
        vec![(session.clone(), 3)]
    );

    // A kept page is never an answer to a caller who may no longer ask.
    let id = coordinator["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/staff/{id}/deactivate"),
        &app.admin_token,
        &json!({}),
        200,
    )
    .await;
    let res = app.get(path, &token).await;
    assert_eq!(res.status(), 401);
    // Nor to a request the list would refuse.
    let res = app.get("/api/v1/sessions?limit=0", &app.admin_token).await;
    assert_eq!(res.status(), 422);
}

db_tests!(
    a_weekly_series_stores_its_sessions_up_to_the_horizon,
    public_holidays_and_closures_are_skipped,
    a_weekly_session_stays_at_14_00_local_across_daylight_saving,
    editing_a_series_moves_free_sessions_and_keeps_booked_ones,
    single_sessions_are_cancelled_moved_and_resized,
    availability_lists_only_sessions_with_free_seats,
    instructors_see_their_own_sessions_and_cannot_write,
    bad_series_are_refused_and_nothing_is_written,
    another_organisations_schedule_answers_404,
    the_list_keeps_a_page_until_this_instance_writes,
);
