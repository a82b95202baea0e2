//! Loaner devices: the pool, lending and returning; fees, payments, refunds
//! and the cash sheet.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use madoguchi::db::schema::{loans, payments};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_problem, db_tests, spawn_app};

struct Fixture {
    venue: String,
    session: String,
    devices: Vec<String>,
}

async fn fixture(app: &TestApp, devices: usize, capacity: i64) -> Fixture {
    let (venue, course) = app.venue_and_course().await;
    let session = app
        .post_ok(
            "/api/v1/sessions",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "date": Utc::now().date_naive() + Duration::days(4), "start_time": "14:00",
                    "capacity": capacity, "loaner_fee_yen": 200}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for i in 0..devices {
        let d = app
            .post_ok(
                "/api/v1/devices",
                &app.admin_token,
                &json!({"asset_tag": format!("KITA-{i:03}"), "kind": "smartphone", "os": "android", "model": "AQUOS wish4", "home_venue_id": venue}),
                201,
            )
            .await;
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    Fixture {
        venue,
        session,
        devices: ids,
    }
}

async fn book_loaner(
    app: &TestApp,
    session: &str,
    resident: &str,
    if_no_loaner: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"resident_id": resident, "channel": "phone", "needs_loaner": true});
    if let Some(choice) = if_no_loaner {
        body["if_no_loaner"] = json!(choice);
    }
    app.post(
        &format!("/api/v1/sessions/{session}/bookings"),
        &app.admin_token,
        &body,
    )
    .await
}

async fn devices_are_registered_with_unique_asset_tags(db: Db) {
    let app = spawn_app(db).await;
    let f = fixture(&app, 1, 10).await;
    let res = app
        .post("/api/v1/devices", &app.admin_token, &json!({"asset_tag": "KITA-000", "kind": "tablet", "os": "ios", "model": "iPad", "home_venue_id": f.venue}))
        .await;
    assert_problem(res, 409, "asset_tag_taken").await;
    for (body, field) in [
        (
            json!({"asset_tag": "X1", "kind": "laptop", "os": "ios", "model": "M", "home_venue_id": f.venue}),
            "kind",
        ),
        (
            json!({"asset_tag": "", "kind": "tablet", "os": "ios", "model": "M", "home_venue_id": f.venue}),
            "asset_tag",
        ),
        (
            json!({"asset_tag": "X2", "kind": "tablet", "os": "ios", "model": "M", "home_venue_id": uuid::Uuid::now_v7()}),
            "home_venue_id",
        ),
    ] {
        let problem = assert_problem(
            app.post("/api/v1/devices", &app.admin_token, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let device = &f.devices[0];
    let changed = app
        .post_ok(
            &format!("/api/v1/devices/{device}/status"),
            &app.admin_token,
            &json!({"status": "maintenance", "note": "バッテリー膨張"}),
            200,
        )
        .await;
    assert_eq!(changed["status"], "maintenance");
    let detail = app
        .get_ok(&format!("/api/v1/devices/{device}"), &app.admin_token)
        .await;
    let kinds: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "status"]);
    let listed = app
        .get_ok("/api/v1/devices?status=maintenance", &app.admin_token)
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

async fn the_pool_is_never_over_reserved_and_staff_choose_what_to_do(db: Db) {
    let app = spawn_app(db).await;
    let f = fixture(&app, 2, 10).await;
    let mut reserved = Vec::new();
    for i in 0..2 {
        let r = app.resident_ok("伊藤", &i.to_string(), "いとう").await;
        let b: Value = book_loaner(&app, &f.session, &r, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(b["loaner"], "reserved");
        assert_eq!(b["fee_due"], 300);
        reserved.push(b["id"].as_str().unwrap().to_owned());
    }
    let third = app.resident_ok("伊藤", &3.to_string(), "いとう").await;
    let problem = assert_problem(
        book_loaner(&app, &f.session, &third, None).await,
        409,
        "no_loaner_available",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("book_without"));
    let seats = app
        .get_ok(&format!("/api/v1/sessions/{}", f.session), &app.admin_token)
        .await["seats_taken"]
        .as_i64();
    assert_eq!(seats, Some(2), "the refused booking took no seat");
    let without: Value = book_loaner(&app, &f.session, &third, Some("book_without"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (without["loaner"].as_str(), without["fee_due"].as_i64()),
        (Some("none"), Some(100))
    );
    let fourth = app.resident_ok("伊藤", &4.to_string(), "いとう").await;
    let waiting: Value = book_loaner(&app, &f.session, &fourth, Some("waitlist"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["loaner"], "waitlisted");
    assert_eq!(
        waiting["status"], "confirmed",
        "the seat is booked; only the device waits"
    );

    // Cancelling a booking with a device hands it to the loaner waitlist.
    app.post_ok(
        &format!("/api/v1/bookings/{}/cancel", reserved[0]),
        &app.admin_token,
        &json!({"reason": "欠席連絡"}),
        200,
    )
    .await;
    let now = app
        .get_ok(
            &format!("/api/v1/bookings/{}", waiting["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await;
    assert_eq!(now["loaner"], "reserved");

    // Devices in maintenance leave the pool.
    for d in &f.devices {
        app.post_ok(
            &format!("/api/v1/devices/{d}/status"),
            &app.admin_token,
            &json!({"status": "maintenance"}),
            200,
        )
        .await;
    }
    let fifth = app.resident_ok("伊藤", &5.to_string(), "いとう").await;
    assert_problem(
        book_loaner(&app, &f.session, &fifth, None).await,
        409,
        "no_loaner_available",
    )
    .await;
}

async fn a_device_back_from_maintenance_serves_the_loaner_waitlist(db: Db) {
    let app = spawn_app(db).await;
    let f = fixture(&app, 1, 10).await;
    let device = &f.devices[0];
    app.post_ok(
        &format!("/api/v1/devices/{device}/status"),
        &app.admin_token,
        &json!({"status": "maintenance"}),
        200,
    )
    .await;
    let r = app.resident_ok("伊藤", &1.to_string(), "いとう").await;
    let waits: Value = book_loaner(&app, &f.session, &r, Some("waitlist"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waits["loaner"], "waitlisted");
    app.post_ok(
        &format!("/api/v1/devices/{device}/status"),
        &app.admin_token,
        &json!({"status": "available"}),
        200,
    )
    .await;
    let served = app
        .get_ok(
            &format!("/api/v1/bookings/{}", waits["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await;
    assert_eq!(served["loaner"], "reserved");
}

async fn a_hundred_parallel_loaner_bookings_reserve_exactly_the_pool(db: Db) {
    let app = spawn_app(db).await;
    let f = fixture(&app, 5, 200).await;
    let mut residents = Vec::new();
    for i in 0..100 {
        residents.push(app.resident_ok("伊藤", &i.to_string(), "いとう").await);
    }
    let answers = futures::future::join_all(
        residents
            .iter()
            .map(|r| book_loaner(&app, &f.session, r, None)),
    )
    .await;
    let created = answers.iter().filter(|r| r.status() == 201).count();
    let refused = answers.iter().filter(|r| r.status() == 409).count();
    assert_eq!(
        (created, refused),
        (5, 95),
        "five devices, five reservations"
    );
    let roster = app
        .get_ok(
            &format!("/api/v1/sessions/{}/roster", f.session),
            &app.admin_token,
        )
        .await;
    let reserved = roster["confirmed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["loaner"] == "reserved")
        .count();
    assert_eq!(reserved, 5);
    assert_eq!(
        app.get_ok(&format!("/api/v1/sessions/{}", f.session), &app.admin_token)
            .await["seats_taken"],
        5
    );
}

async fn a_device_is_lent_returned_and_never_on_two_loans(db: Db) {
    let app = spawn_app(db).await;
    let (tanaka, tanaka_token) = app
        .staff_with_token("tanaka@kita.example", "instructor")
        .await;
    let f = fixture(&app, 1, 10).await;
    app.post_ok(
        &format!("/api/v1/sessions/{}/instructors", f.session),
        &app.admin_token,
        &json!({"instructor_ids": [tanaka["id"]]}),
        200,
    )
    .await;
    let r = app.resident_ok("伊藤", &1.to_string(), "いとう").await;
    let booking: Value = book_loaner(&app, &f.session, &r, None)
        .await
        .json()
        .await
        .unwrap();
    let device = &f.devices[0];
    let loan = app
        .post_ok(
            "/api/v1/loans",
            &tanaka_token,
            &json!({"device_id": device, "booking_id": booking["id"]}),
            201,
        )
        .await;
    assert_eq!(
        app.get_ok(
            &format!("/api/v1/bookings/{}", booking["id"].as_str().unwrap()),
            &app.admin_token
        )
        .await["loaner"],
        "out"
    );
    assert_eq!(
        app.get_ok(&format!("/api/v1/devices/{device}"), &app.admin_token)
            .await["status"],
        "loaned"
    );
    let other = app.resident_ok("伊藤", &2.to_string(), "いとう").await;
    let res = app
        .post("/api/v1/loans", &app.admin_token, &json!({"device_id": device, "resident_id": other, "due_on": Utc::now().date_naive() + Duration::days(7)}))
        .await;
    assert_problem(res, 409, "device_unavailable").await;
    let id = loan["id"].as_str().unwrap();
    let returned = app
        .post_ok(
            &format!("/api/v1/loans/{id}/return"),
            &tanaka_token,
            &json!({"condition": "問題なし"}),
            200,
        )
        .await;
    assert_eq!(returned["return_condition"], "問題なし");
    assert_problem(
        app.post(
            &format!("/api/v1/loans/{id}/return"),
            &tanaka_token,
            &json!({"condition": "again"}),
        )
        .await,
        409,
        "already_returned",
    )
    .await;
    assert_eq!(
        app.get_ok(
            &format!("/api/v1/bookings/{}", booking["id"].as_str().unwrap()),
            &app.admin_token
        )
        .await["loaner"],
        "returned"
    );

    // Take-home loans: many clerks at once, one device, one loan.
    let mut residents = Vec::new();
    for i in 0..12 {
        residents.push(
            app.resident_ok("伊藤", &(10 + i).to_string(), "いとう")
                .await,
        );
    }
    let due = Utc::now().date_naive() + Duration::days(1);
    let bodies: Vec<Value> = residents
        .iter()
        .map(|r| json!({"device_id": device, "resident_id": r, "due_on": due}))
        .collect();
    let answers = futures::future::join_all(
        bodies
            .iter()
            .map(|b| app.post("/api/v1/loans", &app.admin_token, b)),
    )
    .await;
    assert_eq!(
        answers.iter().filter(|r| r.status() == 201).count(),
        1,
        "one loan at a time"
    );
    assert!(
        answers
            .iter()
            .all(|r| r.status() == 201 || r.status() == 409)
    );
    let open = app.get_ok("/api/v1/loans", &app.admin_token).await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get_ok("/api/v1/loans?overdue=true", &app.admin_token)
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );
    {
        let mut conn = app.pool.get().unwrap();
        diesel::update(loans::table.filter(loans::returned_at.is_null()))
            .set(loans::due_at.eq(Utc::now().naive_utc() - Duration::hours(2)))
            .execute(&mut *conn)
            .unwrap();
    }
    let overdue = app
        .get_ok("/api/v1/loans?overdue=true", &app.admin_token)
        .await;
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    assert_eq!(overdue[0]["overdue"], true);
    // A volunteer may not lend.
    let (_, vol) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let res = app
        .post(
            "/api/v1/loans",
            &vol,
            &json!({"device_id": device, "booking_id": booking["id"]}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
}

async fn payments_refunds_and_the_cash_sheet_reconcile(db: Db) {
    let app = spawn_app(db).await;
    let f = fixture(&app, 1, 10).await;
    let r1 = app.resident_ok("伊藤", &1.to_string(), "いとう").await;
    let r2 = app.resident_ok("伊藤", &2.to_string(), "いとう").await;
    let with_loaner: Value = book_loaner(&app, &f.session, &r1, None)
        .await
        .json()
        .await
        .unwrap();
    let plain: Value = app
        .post_ok(&format!("/api/v1/sessions/{}/bookings", f.session), &app.admin_token, &json!({"resident_id": r2, "channel": "counter", "fee_exemption_reason": "生活保護受給"}), 201)
        .await;
    assert_eq!(plain["fee_due"], 0, "exempt, with the reason kept");
    assert_eq!(plain["fee_exemption_reason"], "生活保護受給");

    let pay = |amount: i64, extra: Value| {
        let mut body = json!({"booking_id": with_loaner["id"], "amount": amount, "method": "cash"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let first = app
        .post_ok(
            "/api/v1/payments",
            &app.admin_token,
            &pay(100, json!({})),
            201,
        )
        .await;
    let fy = madoguchi::fees::queries::fiscal_year(
        Utc::now()
            .with_timezone(&chrono_tz::Asia::Tokyo)
            .date_naive(),
    );
    assert_eq!(first["receipt_number"], format!("{fy}-000001"));
    assert_problem(
        app.post("/api/v1/payments", &app.admin_token, &pay(300, json!({})))
            .await,
        409,
        "overpayment",
    )
    .await;
    let second = app
        .post_ok(
            "/api/v1/payments",
            &app.admin_token,
            &pay(200, json!({})),
            201,
        )
        .await;
    assert_eq!(second["receipt_number"], format!("{fy}-000002"));
    app.post_ok(
        "/api/v1/payments",
        &app.admin_token,
        &pay(50, json!({"allow_overpayment": true})),
        201,
    )
    .await;
    for (body, field) in [
        (pay(0, json!({})), "amount"),
        (pay(-100, json!({})), "amount"),
        (pay(100, json!({"method": "card"})), "method"),
    ] {
        let problem = assert_problem(
            app.post("/api/v1/payments", &app.admin_token, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let id = second["id"].as_str().unwrap();
    let refund = app
        .post_ok(
            &format!("/api/v1/payments/{id}/refund"),
            &app.admin_token,
            &json!({"amount": 150, "reason": "貸出機不要になった"}),
            201,
        )
        .await;
    assert_eq!(refund["kind"], "refund");
    assert_eq!(refund["receipt_number"], format!("{fy}-000004"));
    let problem = assert_problem(
        app.post(
            &format!("/api/v1/payments/{id}/refund"),
            &app.admin_token,
            &json!({"amount": 100, "reason": "x"}),
        )
        .await,
        409,
        "refund_exceeds_payment",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("50 yen"));

    let balance = app
        .get_ok(&format!("/api/v1/residents/{r1}/balance"), &app.admin_token)
        .await;
    assert_eq!(
        (
            balance["due"].as_i64(),
            balance["paid"].as_i64(),
            balance["refunded"].as_i64(),
            balance["balance"].as_i64()
        ),
        (Some(300), Some(350), Some(150), Some(100))
    );
    let totals = app
        .get_ok(
            &format!("/api/v1/sessions/{}/fees", f.session),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        (
            totals["expected"].as_i64(),
            totals["collected"].as_i64(),
            totals["refunded"].as_i64()
        ),
        (Some(300), Some(350), Some(150))
    );

    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let sheet = app
        .get_ok(
            &format!("/api/v1/venues/{}/cash-sheet?date={today}", f.venue),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        (
            sheet["payments_total"].as_i64(),
            sheet["refunds_total"].as_i64(),
            sheet["total"].as_i64()
        ),
        (Some(350), Some(150), Some(200))
    );
    let entries: i64 = sheet["sessions"][0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            if e["kind"] == "refund" {
                -e["amount"].as_i64().unwrap()
            } else {
                e["amount"].as_i64().unwrap()
            }
        })
        .sum();
    let table_total: i64 = {
        let mut conn = app.pool.get().unwrap();
        let rows: Vec<(String, i32)> = payments::table
            .select((payments::kind, payments::amount_yen))
            .load(&mut *conn)
            .unwrap();
        rows.iter()
            .map(|(k, a)| {
                if k == "refund" {
                    -i64::from(*a)
                } else {
                    i64::from(*a)
                }
            })
            .sum()
    };
    assert_eq!(entries, 200);
    assert_eq!(
        table_total,
        sheet["total"].as_i64().unwrap(),
        "the sheet reconciles with the payments table"
    );
    let other_day = app
        .get_ok(
            &format!(
                "/api/v1/venues/{}/cash-sheet?date={}",
                f.venue,
                today - Duration::days(1)
            ),
            &app.admin_token,
        )
        .await;
    assert_eq!(other_day["total"], 0);
}

async fn a_retried_payment_is_recorded_once(db: Db) {
    let app = spawn_app(db).await;
    let f = fixture(&app, 1, 10).await;
    let r = app.resident_ok("伊藤", &1.to_string(), "いとう").await;
    let booking: Value = book_loaner(&app, &f.session, &r, None)
        .await
        .json()
        .await
        .unwrap();
    let body = json!({"booking_id": booking["id"], "amount": 300, "method": "cash"});
    let send = || {
        app.client
            .post(app.url("/api/v1/payments"))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", "receipt-pad-7")
            .json(&body)
            .send()
    };
    let answers = futures::future::join_all((0..10).map(|_| send())).await;
    let mut receipts = std::collections::HashSet::new();
    for res in answers {
        let res = res.unwrap();
        assert_eq!(res.status(), 201);
        receipts.insert(
            res.json::<Value>().await.unwrap()["receipt_number"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(receipts.len(), 1);
    let totals = app
        .get_ok(
            &format!("/api/v1/sessions/{}/fees", f.session),
            &app.admin_token,
        )
        .await;
    assert_eq!(totals["collected"], 300);
}

/// Ten parallel 100-yen payments on a booking that owes 300 (100 fee + 200
/// loaner): exactly three are taken, the rest are clean 409s, and ten
/// parallel 30-yen refunds of a 100-yen payment refund at most 90.
async fn parallel_payments_and_refunds_never_exceed_what_is_due_or_paid(db: Db) {
    let app = spawn_app(db).await;
    let f = fixture(&app, 1, 10).await;
    let r = app.resident_ok("伊藤", &1.to_string(), "いとう").await;
    let booking: Value = book_loaner(&app, &f.session, &r, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(booking["fee_due"], 300);
    let body = json!({"booking_id": booking["id"], "amount": 100, "method": "cash"});
    let answers = futures::future::join_all(
        (0..10).map(|_| app.post("/api/v1/payments", &app.admin_token, &body)),
    )
    .await;
    let mut created = Vec::new();
    for res in answers {
        match res.status().as_u16() {
            201 => created.push(res.json::<Value>().await.unwrap()),
            _ => {
                assert_problem(res, 409, "overpayment").await;
            }
        }
    }
    assert_eq!(created.len(), 3, "300 yen due, 100 at a time");
    let totals = app
        .get_ok(
            &format!("/api/v1/sessions/{}/fees", f.session),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        (totals["collected"].as_i64(), totals["outstanding"].as_i64()),
        (Some(300), Some(0))
    );
    let balance = app
        .get_ok(&format!("/api/v1/residents/{r}/balance"), &app.admin_token)
        .await;
    assert_eq!(balance["balance"], 0, "{balance}");

    let payment = created[0]["id"].as_str().unwrap();
    let refund = json!({"amount": 30, "reason": "返金"});
    let path = format!("/api/v1/payments/{payment}/refund");
    let answers =
        futures::future::join_all((0..10).map(|_| app.post(&path, &app.admin_token, &refund)))
            .await;
    let mut refunded = 0;
    for res in answers {
        match res.status().as_u16() {
            201 => refunded += 30,
            _ => {
                assert_problem(res, 409, "refund_exceeds_payment").await;
            }
        }
    }
    assert_eq!(refunded, 90, "three refunds of 30 fit in 100 yen");
    let stored: i64 = {
        let mut conn = app.pool.get().unwrap();
        payments::table
            .filter(payments::kind.eq("refund"))
            .select(payments::amount_yen)
            .load::<i32>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(i64::from)
            .sum()
    };
    assert_eq!(stored, 90, "what the answers said is what is stored");
    // Receipt numbers stayed unique and gap-free under the race.
    let mut conn = app.pool.get().unwrap();
    let mut receipts: Vec<String> = payments::table
        .select(payments::receipt_number)
        .load(&mut *conn)
        .unwrap();
    receipts.sort();
    receipts.dedup();
    assert_eq!(receipts.len(), 6);
}

db_tests!(
    devices_are_registered_with_unique_asset_tags,
    the_pool_is_never_over_reserved_and_staff_choose_what_to_do,
    a_hundred_parallel_loaner_bookings_reserve_exactly_the_pool,
    a_device_back_from_maintenance_serves_the_loaner_waitlist,
    a_device_is_lent_returned_and_never_on_two_loans,
    payments_refunds_and_the_cash_sheet_reconcile,
    a_retried_payment_is_recorded_once,
    parallel_payments_and_refunds_never_exceed_what_is_due_or_paid,
);
