//! The organisation's report for a period, its files for Excel, and a
//! resident's rights over their data (export, erasure, retention).

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_problem, db_tests, spawn_app};

async fn person(app: &TestApp, family: &str, birth_year: i64, district: &str) -> String {
    app.post_ok(
        "/api/v1/residents",
        &app.admin_token,
        &json!({"family_name": family, "given_name": "花子", "family_name_kana": "てすと", "given_name_kana": "はなこ",
                "phone": "0584-11-2222", "email": format!("{}@example.jp", uuid::Uuid::now_v7()),
                "birth_year": birth_year, "district": district, "notes": "耳が遠い", "confirm_new_person": true}),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn session(app: &TestApp, venue: &str, course: &str, capacity: i64) -> String {
    app.post_ok(
        "/api/v1/sessions",
        &app.admin_token,
        &json!({"course_id": course, "venue_id": venue, "capacity": capacity, "start_time": "14:00",
                "date": chrono::Utc::now().date_naive() + Duration::days(5)}),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn book(app: &TestApp, s: &str, r: &str, channel: &str) -> Value {
    app.post_ok(
        &format!("/api/v1/sessions/{s}/bookings"),
        &app.admin_token,
        &json!({"resident_id": r, "channel": channel}),
        201,
    )
    .await
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

struct Seeded {
    venue: String,
    residents: Vec<String>,
    held: Vec<String>,
    range: String,
}

/// Two sessions held (one with a no-show, an announced absence, a
/// waitlisted and a cancelled booking), one cancelled, one to come; fees
/// paid and refunded; a phone lent and late; two consultations.
async fn seeded(app: &TestApp) -> Seeded {
    let (venue, course) = app.venue_and_course().await;
    let r = vec![
        person(app, "山田", 1950, "北区").await,
        person(app, "佐藤", 1944, "南区").await,
        person(app, "鈴木", 1962, "北区").await,
        person(app, "田中", 1938, "南区").await,
    ];
    let s1 = session(app, &venue, &course, 3).await;
    let s2 = session(app, &venue, &course, 10).await;
    let s3 = session(app, &venue, &course, 10).await;
    let s4 = session(app, &venue, &course, 10).await;
    let b11 = book(app, &s1, &r[0], "phone").await;
    let b12 = book(app, &s1, &r[1], "phone").await;
    let b13 = book(app, &s1, &r[2], "counter").await;
    let w14 = book(app, &s1, &r[3], "phone").await;
    assert_eq!(w14["status"], "waitlisted");
    let b21 = book(app, &s2, &r[0], "phone").await;
    let b22 = book(app, &s2, &r[1], "web").await;
    app.post_ok(
        &format!("/api/v1/bookings/{}/cancel", id(&b22)),
        &app.admin_token,
        &json!({"reason": "体調不良"}),
        200,
    )
    .await;
    book(app, &s3, &r[2], "phone").await;
    app.post_ok(
        &format!("/api/v1/sessions/{s3}/cancel"),
        &app.admin_token,
        &json!({"reason": "講師の都合"}),
        200,
    )
    .await;
    book(app, &s4, &r[3], "phone").await;
    // A phone lent for s1, due back before now and still out.
    let device = app
        .post_ok(
            "/api/v1/devices",
            &app.admin_token,
            &json!({"asset_tag": "P-01", "kind": "smartphone", "os": "android", "model": "AQUOS", "home_venue_id": venue}),
            201,
        )
        .await;
    for s in [&s1, &s2] {
        app.set_session_start(s, Duration::minutes(-90));
    }
    let loan = app
        .post_ok(
            "/api/v1/loans",
            &app.admin_token,
            &json!({"device_id": device["id"], "booking_id": b11["id"]}),
            201,
        )
        .await;
    {
        use diesel::prelude::*;
        use madoguchi::db::schema::loans;
        let mut conn = app.pool.get().unwrap();
        diesel::update(loans::table.filter(loans::id.eq(loan["id"].as_str().unwrap())))
            .set(loans::due_at.eq(chrono::Utc::now().naive_utc() - Duration::minutes(5)))
            .execute(&mut *conn)
            .unwrap();
    }
    let marks = json!({"marks": [{"booking_id": b11["id"], "attendance": "present"},
                                 {"booking_id": b12["id"], "attendance": "late"},
                                 {"booking_id": b13["id"], "attendance": "absent"}]});
    app.post_ok(
        &format!("/api/v1/sessions/{s1}/attendance"),
        &app.admin_token,
        &marks,
        200,
    )
    .await;
    app.post_ok(
        &format!("/api/v1/sessions/{s1}/close"),
        &app.admin_token,
        &json!({}),
        200,
    )
    .await;
    app.post_ok(
        &format!("/api/v1/sessions/{s2}/close"),
        &app.admin_token,
        &json!({}),
        200,
    )
    .await;
    let paid = app
        .post_ok(
            "/api/v1/payments",
            &app.admin_token,
            &json!({"booking_id": b11["id"], "amount": 100, "method": "cash"}),
            201,
        )
        .await;
    app.post_ok(
        "/api/v1/payments",
        &app.admin_token,
        &json!({"booking_id": b12["id"], "amount": 100, "method": "cash"}),
        201,
    )
    .await;
    app.post_ok(
        &format!("/api/v1/payments/{}/refund", id(&paid)),
        &app.admin_token,
        &json!({"amount": 40, "reason": "一部返金"}),
        201,
    )
    .await;
    app.post_ok(
        "/api/v1/tickets",
        &app.admin_token,
        &json!({"channel": "phone", "category": "photos_printing", "subject": "写真を印刷したい",
                "resident_id": r[0], "resolved_with": "コンビニのプリントを案内"}),
        201,
    )
    .await;
    app.post_ok(
        "/api/v1/tickets",
        &app.admin_token,
        &json!({"channel": "email", "category": "smartphone", "subject": "LINEの引き継ぎ",
                "contact_email": "q@example.jp"}),
        201,
    )
    .await;
    let today = chrono::Utc::now().date_naive();
    let range = format!(
        "from={}&to={}",
        today - Duration::days(7),
        today + Duration::days(10)
    );
    let _ = (b21, w14);
    Seeded {
        venue,
        residents: r,
        held: vec![s1, s2],
        range,
    }
}

async fn the_summary_counts_what_happened_and_reconciles_with_the_lists(db: Db) {
    let app = spawn_app(db).await;
    let seed = seeded(&app).await;
    let s = app
        .get_ok(
            &format!("/api/v1/reports/summary?{}", seed.range),
            &app.admin_token,
        )
        .await;
    assert_eq!(s["sessions_held"], 2);
    assert_eq!(s["sessions_cancelled"], 1);
    assert_eq!(s["sessions_upcoming"], 1);
    assert_eq!(s["seats_offered"], 13);
    assert_eq!(s["seats_taken"], 4, "3 in s1, 1 in s2");
    assert_eq!(
        s["bookings"], 5,
        "4 held + 1 to come; waitlisted and cancelled apart"
    );
    assert_eq!(s["bookings_by_channel"], json!({"counter": 1, "phone": 4}));
    assert_eq!(s["bookings_waitlisted"], 1);
    assert!(s["bookings_cancelled"].as_i64().unwrap() >= 1);
    assert_eq!(s["participants"], 2);
    assert_eq!(s["first_time_participants"], 2);
    assert_eq!(s["attendances"], 2);
    assert_eq!(s["no_shows"], 1, "山田 did not come to s2");
    assert_eq!(s["absences"], 1);
    assert_eq!(s["attendance_rate"], 0.5);
    assert_eq!(s["participants_by_age_band"], json!({"70s": 1, "80s": 1}));
    assert_eq!(s["participants_by_district"], json!({"北区": 1, "南区": 1}));
    assert_eq!(s["by_course"][0]["participants"], 2);
    assert_eq!(s["by_venue"][0]["name"], "北公民館");
    let topics: Vec<&str> = s["by_topic"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(topics, ["calls", "power_and_buttons"]);
    assert_eq!(s["loaners_lent"], 1);
    assert_eq!(s["loaners_overdue"], 1);
    assert_eq!(s["fees_collected_yen"], 200);
    assert_eq!(s["fees_refunded_yen"], 40);
    assert_eq!(s["fees_net_yen"], 160);
    let c = &s["consultations"];
    assert_eq!(c["total"], 2);
    assert_eq!(c["by_channel"], json!({"email": 1, "phone": 1}));
    assert_eq!(c["by_outcome"], json!({"open": 1, "resolved": 1}));
    assert_eq!(c["resolved_on_the_spot"], 1);
    assert_eq!(c["resolved_on_the_spot_share"], 0.5);
    assert_eq!(c["median_resolution_minutes"], 0.0);
    // The numbers reconcile with the lists they summarise.
    let mut attended = std::collections::HashSet::new();
    let mut confirmed = 0;
    for session in &seed.held {
        let list = app
            .get_ok(
                &format!("/api/v1/bookings?session_id={session}&limit=100"),
                &app.admin_token,
            )
            .await;
        for b in list["items"].as_array().unwrap() {
            if b["status"] == "confirmed" {
                confirmed += 1;
            }
            if matches!(b["attendance"].as_str(), Some("present" | "late")) {
                attended.insert(b["resident"]["id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(s["seats_taken"], confirmed);
    assert_eq!(s["participants"], attended.len());
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let sheet = app
        .get_ok(
            &format!("/api/v1/venues/{}/cash-sheet?date={today}", seed.venue),
            &app.admin_token,
        )
        .await;
    assert_eq!(s["fees_net_yen"], sheet["total"], "{sheet}");
    assert_eq!(s["fees_collected_yen"], sheet["payments_total"], "{sheet}");
    let stats = app
        .get_ok(
            &format!(
                "/api/v1/tickets/stats?from={}&to={}",
                today - Duration::days(7),
                today + Duration::days(10)
            ),
            &app.admin_token,
        )
        .await;
    assert_eq!(c["total"], stats["total"]);
    // Limited to the venue: the same sessions; to another venue: none.
    let here = app
        .get_ok(
            &format!(
                "/api/v1/reports/summary?{}&venue_id={}",
                seed.range, seed.venue
            ),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        (
            here["sessions_held"].as_i64(),
            here["participants"].as_i64()
        ),
        (Some(2), Some(2))
    );
    let elsewhere = app
        .get_ok(
            &format!(
                "/api/v1/reports/summary?{}&venue_id={}",
                seed.range,
                uuid::Uuid::now_v7()
            ),
            &app.admin_token,
        )
        .await;
    assert_eq!(elsewhere["sessions_held"], 0);
    assert_eq!(elsewhere["fees_collected_yen"], 0);
    // Limited to a topic nobody teaches: nothing.
    let none = app
        .get_ok(
            &format!(
                "/api/v1/reports/summary?{}&topic=my_number_card",
                seed.range
            ),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        (
            none["sessions_held"].as_i64(),
            none["participants"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let _ = seed.residents;
}

async fn the_report_downloads_for_excel_safely(db: Db) {
    let app = spawn_app(db).await;
    let seed = seeded(&app).await;
    // A category whose label a spreadsheet would run as a formula.
    app.post_ok(
        "/api/v1/ticket-categories",
        &app.admin_token,
        &json!({"code": "sums", "label": "=SUM(1,2)"}),
        201,
    )
    .await;
    app.post_ok(
        "/api/v1/tickets",
        &app.admin_token,
        &json!({"channel": "phone", "category": "sums", "subject": "表計算"}),
        201,
    )
    .await;
    let url = app.url(&format!("/api/v1/reports/summary?{}", seed.range));
    let res = app
        .client
        .get(&url)
        .bearer_auth(&app.admin_token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf", "a BOM, for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rows.headers().unwrap().iter().collect::<Vec<_>>(),
        ["表", "項目", "指標", "値"]
    );
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let value = |table: &str, item: &str| {
        records
            .iter()
            .find(|r| &r[0] == table && &r[1] == item)
            .map(|r| r[3].to_owned())
    };
    assert_eq!(value("概要", "参加者（実人数）").as_deref(), Some("2"));
    assert_eq!(value("概要", "入金（円）").as_deref(), Some("200"));
    assert_eq!(value("年代別", "80代").as_deref(), Some("1"));
    assert!(
        records.iter().any(|r| &r[1] == "'=SUM(1,2)"),
        "the formula is neutralised and the comma quoted: {text}"
    );
    // Shift_JIS on request.
    let sjis = app
        .get(
            &format!(
                "/api/v1/reports/summary?{}&format=csv&encoding=shift_jis",
                seed.range
            ),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        sjis.headers()["content-type"],
        "text/csv; charset=shift_jis"
    );
    let raw = sjis.bytes().await.unwrap();
    let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&raw);
    assert!(!bad);
    assert!(decoded.starts_with("表,項目,指標,値\r\n"));
    assert!(decoded.contains("概要,参加者（実人数）,値,2"));
    // xlsx: a workbook whose sheets are the tables.
    let xlsx = app
        .get(
            &format!("/api/v1/reports/summary?{}&format=xlsx", seed.range),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        xlsx.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let book = xlsx.bytes().await.unwrap();
    assert_eq!(&book[..2], b"PK");
    let text = String::from_utf8_lossy(&book);
    assert!(text.contains("xl/worksheets/sheet1.xml"));
    // The ticket statistics CSV goes through the same writer.
    let today = chrono::Utc::now().date_naive();
    let stats = app
        .get(
            &format!("/api/v1/tickets/stats?from={today}&to={today}&format=csv"),
            &app.admin_token,
        )
        .await;
    let body = String::from_utf8(stats.bytes().await.unwrap().to_vec()).unwrap();
    assert!(
        body.starts_with("\u{feff}dimension,value,count\r\n"),
        "{body}"
    );
    // Bad requests are refused in words; volunteers are refused.
    for bad in ["format=pdf", "encoding=latin1&format=csv"] {
        let res = app
            .get(
                &format!("/api/v1/reports/summary?{}&{bad}", seed.range),
                &app.admin_token,
            )
            .await;
        assert_problem(res, 422, "validation_failed").await;
    }
    let backwards = app
        .get(
            "/api/v1/reports/summary?from=2026-12-31&to=2026-01-01",
            &app.admin_token,
        )
        .await;
    assert_problem(backwards, 422, "validation_failed").await;
    let (_, vol) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let res = app
        .get(&format!("/api/v1/reports/summary?{}", seed.range), &vol)
        .await;
    assert_problem(res, 403, "forbidden").await;
}

async fn a_resident_gets_everything_held_and_can_be_erased_without_changing_past_reports(db: Db) {
    let app = spawn_app(db).await;
    let seed = seeded(&app).await;
    let yamada = &seed.residents[0];
    let all = app
        .get_ok(
            &format!("/api/v1/residents/{yamada}/export"),
            &app.admin_token,
        )
        .await;
    assert_eq!(all["resident"]["family_name"], "山田");
    assert_eq!(all["bookings"].as_array().unwrap().len(), 2);
    assert_eq!(all["loans"].as_array().unwrap().len(), 1);
    assert_eq!(
        all["payments"].as_array().unwrap().len(),
        2,
        "the payment and its refund"
    );
    assert_eq!(all["tickets"].as_array().unwrap().len(), 1);
    assert!(all["tickets"][0]["timeline"].as_array().unwrap().len() >= 2);
    let audit = app
        .get_ok("/api/v1/audit?action=resident.export", &app.admin_token)
        .await;
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        1,
        "the export is audited"
    );

    let before = app
        .get_ok(
            &format!("/api/v1/reports/summary?{}", seed.range),
            &app.admin_token,
        )
        .await;
    // The phone is still out: refused with the reason, nothing changes.
    let erase = format!("/api/v1/residents/{yamada}/erase");
    let refused = app
        .post(
            &erase,
            &app.admin_token,
            &json!({"reason": "本人からの申出"}),
        )
        .await;
    assert_problem(refused, 409, "open_loan").await;
    let (_, coordinator) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let not_theirs = app
        .post(
            &erase,
            &coordinator,
            &json!({"reason": "本人からの申出", "override_reason": "端末は紛失扱い"}),
        )
        .await;
    assert_problem(not_theirs, 403, "forbidden").await;
    let missing = app
        .post(&erase, &app.admin_token, &json!({"reason": " "}))
        .await;
    assert_problem(missing, 422, "validation_failed").await;
    let unchanged = app
        .get_ok(&format!("/api/v1/residents/{yamada}"), &app.admin_token)
        .await;
    assert_eq!(unchanged["family_name"], "山田");
    // An admin overrides with a reason.
    let done = app
        .post_ok(
            &erase,
            &app.admin_token,
            &json!({"reason": "本人からの申出", "override_reason": "端末は紛失扱い"}),
            200,
        )
        .await;
    assert_eq!(done["bookings_kept"], 2);
    let gone = app
        .get_ok(
            &format!("/api/v1/residents/{yamada}/export"),
            &app.admin_token,
        )
        .await;
    let text = gone.to_string();
    for secret in [
        "山田",
        // Whole values: a short digit string can occur by chance inside an id or a
        // timestamp's fraction (this flaked once with "0584").
        "0584-11-2222",
        "example.jp",
        "耳が遠い",
        "写真を印刷したい",
        "コンビニ",
        "\"birth_year\":1950",
    ] {
        assert!(!text.contains(secret), "{secret} is still held: {text}");
    }
    assert!(gone["resident"]["birth_year"].is_null(), "{gone}");
    assert_eq!(gone["resident"]["age_band"], "70s", "the band stays");
    assert_eq!(gone["resident"]["district"], "北区");
    assert!(
        gone["erased"]["reason"]
            .as_str()
            .unwrap()
            .contains("端末は紛失扱い")
    );
    // Nor do the logs name the person any more.
    let log = app
        .get_ok("/api/v1/audit?limit=200", &app.admin_token)
        .await;
    assert!(!log.to_string().contains("山田"), "{log}");
    // The past report is the same to the number.
    let after = app
        .get_ok(
            &format!("/api/v1/reports/summary?{}", seed.range),
            &app.admin_token,
        )
        .await;
    assert_eq!(before, after);
    let again = app
        .post(&erase, &app.admin_token, &json!({"reason": "二重"}))
        .await;
    assert_problem(again, 409, "already_erased").await;
    // Someone with a session to come: cancel it first.
    let tanaka = &seed.residents[3];
    let upcoming = app
        .post(
            &format!("/api/v1/residents/{tanaka}/erase"),
            &app.admin_token,
            &json!({"reason": "申出"}),
        )
        .await;
    assert_problem(upcoming, 409, "upcoming_bookings").await;
}

async fn the_retention_job_erases_dormant_residents_only(db: Db) {
    use diesel::prelude::*;
    use madoguchi::db::schema::residents;
    let app = spawn_app(db).await;
    let old = person(&app, "古川", 1940, "北区").await;
    let recent = person(&app, "新井", 1941, "北区").await;
    {
        let mut conn = app.pool.get().unwrap();
        let long_ago = chrono::Utc::now().naive_utc() - Duration::days(4 * 366);
        diesel::update(residents::table.filter(residents::id.eq(&old)))
            .set((
                residents::created_at.eq(long_ago),
                residents::updated_at.eq(long_ago),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let res = app
        .patch(
            "/api/v1/organisation",
            &app.admin_token,
            &json!({"retention_months": 6}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let org = app
        .patch(
            "/api/v1/organisation",
            &app.admin_token,
            &json!({"retention_months": 36}),
        )
        .await;
    assert_eq!(org.status(), 200);
    let job = madoguchi::privacy::service::retention_job(60);
    let mut conn = app.pool.get().unwrap();
    let done = madoguchi::jobs::run_once(&mut conn, &job, "test").unwrap();
    assert_eq!(done, Some(1));
    drop(conn);
    let erased = app
        .get_ok(&format!("/api/v1/residents/{old}"), &app.admin_token)
        .await;
    assert_ne!(erased["family_name"], "古川");
    assert!(erased["phone"].is_null());
    let kept = app
        .get_ok(&format!("/api/v1/residents/{recent}"), &app.admin_token)
        .await;
    assert_eq!(kept["family_name"], "新井");
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        madoguchi::jobs::run_once(&mut conn, &job, "test").unwrap(),
        Some(0),
        "once only"
    );
}

async fn the_attendance_export_streams_every_booking_without_names(db: Db) {
    let app = spawn_app(db).await;
    let seed = seeded(&app).await;
    let res = app
        .get(
            &format!("/api/v1/reports/attendance.csv?{}", seed.range),
            &app.admin_token,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "日付", "開始", "講座", "会場", "経路", "状態", "出席", "年代", "地区"
        ]
    );
    let lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        lines.len(),
        8,
        "every booking of the period's sessions: {text}"
    );
    assert_eq!(lines.iter().filter(|l| &l[6] == "出席").count(), 1);
    assert_eq!(lines.iter().filter(|l| &l[6] == "無断欠席").count(), 1);
    assert_eq!(
        lines.iter().filter(|l| &l[5] == "キャンセル待ち").count(),
        1
    );
    for secret in ["山田", "佐藤", "0584-11-2222", "example.jp", "耳が遠い"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Page by page (two lines at a time), every line once and in order.
    let mut conn = app.pool.get().unwrap();
    let tz = chrono_tz::Asia::Tokyo;
    let today = chrono::Utc::now().date_naive();
    let period = madoguchi::reports::queries::Period::new(
        today - Duration::days(7),
        today + Duration::days(10),
        tz,
    );
    let names = madoguchi::reports::rows::names(&mut conn, app.org_id).unwrap();
    let (mut after, mut seen, mut pages) = (None, 0, 0);
    while let Some((text, last)) =
        madoguchi::reports::rows::page(&mut conn, app.org_id, &period, &names, after, 2).unwrap()
    {
        seen += text.lines().count();
        pages += 1;
        after = Some(last);
    }
    assert_eq!((seen, pages), (8, 4));
    let (_, vol) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let res = app
        .get(
            &format!("/api/v1/reports/attendance.csv?{}", seed.range),
            &vol,
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
}

/// An organisation's held session with `n` participants, through its own admin.
async fn held_with(app: &TestApp, token: &str, n: usize) {
    let venue = app
        .post_ok(
            "/api/v1/venues",
            token,
            &json!({"name": "南会場", "default_capacity": 20}),
            201,
        )
        .await;
    let course = app
        .post_ok(
            "/api/v1/courses",
            token,
            &json!({"title": "南のスマホ教室", "kind": "class", "default_fee_yen": 0,
                    "default_length_minutes": 60, "topics": ["calls"]}),
            201,
        )
        .await;
    let s = app
        .post_ok(
            "/api/v1/sessions",
            token,
            &json!({"course_id": course["id"], "venue_id": venue["id"], "start_time": "10:00",
                    "date": chrono::Utc::now().date_naive() + Duration::days(5)}),
            201,
        )
        .await;
    let s = id(&s);
    let mut marks = Vec::new();
    for i in 0..n {
        let r = app
            .post_ok(
                "/api/v1/residents",
                token,
                &json!({"family_name": "南田", "given_name": format!("{i}"), "family_name_kana": "みなみだ",
                        "given_name_kana": "たろう", "birth_year": 1950, "district": "港地区", "confirm_new_person": true}),
                201,
            )
            .await;
        let b = app
            .post_ok(
                &format!("/api/v1/sessions/{s}/bookings"),
                token,
                &json!({"resident_id": r["id"], "channel": "phone"}),
                201,
            )
            .await;
        marks.push(json!({"booking_id": b["id"], "attendance": "present"}));
    }
    app.set_session_start(&s, Duration::minutes(-90));
    app.post_ok(
        &format!("/api/v1/sessions/{s}/attendance"),
        token,
        &json!({"marks": marks}),
        200,
    )
    .await;
}

async fn token_of(app: &TestApp, email: &str) -> String {
    app.login_ok(email, crate::helpers::ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_programme_sees_its_members_in_figures_and_never_a_person(db: Db) {
    let app = spawn_app(db).await;
    let seed = seeded(&app).await;
    let (_, south_email) =
        crate::helpers::seed_organisation(&app.pool, "南町", "admin@minami.example");
    let south = token_of(&app, &south_email).await;
    held_with(&app, &south, 6).await;
    let (_, office_email) =
        crate::helpers::seed_organisation(&app.pool, "県デジタル推進課", "admin@pref.example");
    let office = token_of(&app, &office_email).await;
    let bad = app
        .post(
            "/api/v1/programmes",
            &office,
            &json!({"name": "県", "min_cell_size": 1}),
        )
        .await;
    assert_problem(bad, 422, "validation_failed").await;
    let programme = app
        .post_ok(
            "/api/v1/programmes",
            &office,
            &json!({"name": "県デジタル活用支援"}),
            201,
        )
        .await;
    assert_eq!(programme["min_cell_size"], 5);
    let pid = id(&programme);
    let summary = format!("/api/v1/programmes/{pid}/summary?{}", seed.range);
    // Members join by their own admin; a coordinator cannot.
    let (_, coord) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let refused = app
        .post(
            &format!("/api/v1/programmes/{pid}/membership"),
            &coord,
            &json!({}),
        )
        .await;
    assert_problem(refused, 403, "forbidden").await;
    for token in [&app.admin_token, &south] {
        let joined = app
            .post_ok(
                &format!("/api/v1/programmes/{pid}/membership"),
                token,
                &json!({}),
                200,
            )
            .await;
        assert_eq!(joined["member"], true);
    }
    // A member is not a viewer.
    let not_viewer = app.get(&summary, &app.admin_token).await;
    assert_problem(not_viewer, 403, "forbidden").await;
    let r = app.get_ok(&summary, &office).await;
    let members = r["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    let of =
        |name: &str| members.iter().find(|m| m["organisation"] == name).unwrap()["figures"].clone();
    let south_figures = of("南町");
    assert_eq!(south_figures["participants"], json!({"value": 6}));
    assert_eq!(
        south_figures["participants_by_topic"]["calls"],
        json!({"value": 6})
    );
    let kita = members
        .iter()
        .find(|m| m["organisation"] != "南町")
        .unwrap()["figures"]
        .clone();
    assert_eq!(
        kita["participants"],
        json!({"at_least": 1, "at_most": 4}),
        "2 people: a range"
    );
    assert_eq!(kita["sessions_held"], 2);
    assert_eq!(
        r["total"]["participants"],
        json!({"at_least": 7, "at_most": 10}),
        "one member hidden: the total is a range too"
    );
    assert_eq!(r["total"]["sessions_held"], 3);
    let text = r.to_string();
    for secret in [
        "山田",
        "南田",
        "はじめてのスマホ教室",
        "南のスマホ教室",
        "北公民館",
        "南会場",
        "北区",
        "港地区",
        "写真を印刷したい",
    ] {
        assert!(!text.contains(secret), "{secret} in the roll-up: {text}");
    }
    // The office names a colleague a viewer; others are refused.
    let members_of_office = app.get_ok("/api/v1/programmes", &office).await;
    assert_eq!(members_of_office[0]["viewer"], true);
    let outsider = app
        .post(
            &format!("/api/v1/programmes/{pid}/viewers"),
            &office,
            &json!({"account_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_problem(outsider, 422, "validation_failed").await;
    // Withdrawing takes the member out of the roll-up.
    let left = app
        .post_ok(
            &format!("/api/v1/programmes/{pid}/membership/withdraw"),
            &south,
            &json!({}),
            200,
        )
        .await;
    assert_eq!(left["member"], false);
    let after = app.get_ok(&summary, &office).await;
    assert_eq!(after["members"].as_array().unwrap().len(), 1);
    assert_eq!(
        after["total"]["participants"],
        json!({"at_least": 1, "at_most": 4})
    );
}

db_tests!(
    a_programme_sees_its_members_in_figures_and_never_a_person,
    the_attendance_export_streams_every_booking_without_names,
    the_summary_counts_what_happened_and_reconciles_with_the_lists,
    the_report_downloads_for_excel_safely,
    a_resident_gets_everything_held_and_can_be_erased_without_changing_past_reports,
    the_retention_job_erases_dormant_residents_only,
);
