//! Messages that reach residents: the outbox written with the change,
//! delivered over real SMTP to a server started in the test (mailin-embedded),
//! reminders, consent, and the call list for residents without mail.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use madoguchi::config::{MailSettings, Settings};
use madoguchi::db::schema::{bookings, outbox_messages};
use madoguchi::messages::delivery;
use madoguchi::messages::transport::Mailer;
use mailin_embedded::{Handler, Response, Server, response};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_problem, db_tests, spawn_app_with};

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: String,
}

impl Received {
    fn header(&self, name: &str) -> String {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let mut value = String::new();
        let mut inside = false;
        for line in head.split("\r\n") {
            if inside && (line.starts_with(' ') || line.starts_with('\t')) {
                value.push(' ');
                value.push_str(line.trim_start());
                continue;
            }
            inside = false;
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                value = v.trim().to_owned();
                inside = true;
            }
        }
        value
    }

    /// The subject, RFC 2047 words decoded.
    pub fn subject(&self) -> String {
        decode_words(&self.header("Subject"))
    }

    /// The text body, transfer encoding undone.
    pub fn body(&self) -> String {
        let body = self.raw.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        let encoding = self
            .header("Content-Transfer-Encoding")
            .to_ascii_lowercase();
        match encoding.as_str() {
            "base64" => {
                let joined: String = body.split_whitespace().collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(joined)
                        .expect("base64 body"),
                )
                .expect("utf-8 body")
            }
            "quoted-printable" => quoted_printable(body),
            _ => body.to_owned(),
        }
    }
}

fn quoted_printable(text: &str) -> String {
    let text = text.replace("=\r\n", "");
    let mut bytes = Vec::new();
    let raw = text.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'=' && i + 2 < raw.len() {
            let hex = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                bytes.push(b);
                i += 3;
                continue;
            }
        }
        bytes.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn decode_words(value: &str) -> String {
    let mut out = String::new();
    for word in value.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && word.ends_with("?=") {
            let inner = &word[10..word.len() - 2];
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(inner)
                .expect("b word");
            out.push_str(&String::from_utf8(bytes).expect("utf-8 word"));
        } else if lower.starts_with("=?utf-8?q?") && word.ends_with("?=") {
            let inner = word[10..word.len() - 2].replace('_', " ");
            out.push_str(&quoted_printable(&inner));
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// An SMTP server that keeps what it receives; `busy…` recipients get a
/// temporary refusal (451), `nobody…` a permanent one (550).
#[derive(Clone, Default)]
pub struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Inbox {
    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("busy") {
            return response::INTERNAL_ERROR;
        }
        if to.starts_with("nobody") {
            return response::NO_MAILBOX;
        }
        self.to.push(to.to_owned());
        response::OK
    }

    fn data_start(&mut self, _: &str, _: &str, _: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            raw: String::from_utf8_lossy(&self.data).into_owned(),
        });
        self.data.clear();
        response::OK
    }
}

impl Inbox {
    /// Starts a server on `port` (0: any free port) in a thread; its port.
    pub fn start(&self, port: u16) -> u16 {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind smtp");
        let port = listener.local_addr().unwrap().port();
        let mut server = Server::new(self.clone());
        server
            .with_name("mail.test")
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        port
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn to(&self, address: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }
}

pub fn smtp_settings(port: u16) -> MailSettings {
    let mut s = Settings::default().mail;
    s.transport = "smtp".into();
    s.smtp_host = "127.0.0.1".into();
    s.smtp_port = port;
    s.smtp_tls = "none".into();
    s.smtp_timeout_secs = 3;
    s.max_attempts = 3;
    s.from = "北区ICT相談センター <desk@kita.example>".into();
    s
}

/// Runs the delivery job once, as the jobs loop would; the number sent.
pub async fn deliver(app: &TestApp, settings: &MailSettings) -> usize {
    let (pool, settings, runtime) = (
        app.pool.clone(),
        settings.clone(),
        tokio::runtime::Handle::current(),
    );
    tokio::task::spawn_blocking(move || {
        let mailer = Mailer::from_settings(&settings).expect("mailer");
        let mut conn = pool.get().unwrap();
        delivery::deliver(&mut conn, &mailer, &runtime, &settings).expect("deliver")
    })
    .await
    .unwrap()
}

fn outbox_rows(app: &TestApp) -> Vec<(String, String, i32)> {
    let mut conn = app.pool.get().unwrap();
    outbox_messages::table
        .order(outbox_messages::id.asc())
        .select((
            outbox_messages::recipient,
            outbox_messages::status,
            outbox_messages::attempts,
        ))
        .load(&mut *conn)
        .unwrap()
}

/// A resident: `email` with consent and preference email; `phone` prefers
/// calls; `no_consent` has an address but did not agree to be contacted.
pub async fn resident(app: &TestApp, given: &str, kind: &str, email: &str) -> String {
    let body = match kind {
        "email" => json!({"email": email, "contact_preference": "email", "consent_contact": true,
                          "phone": "090-1111-2222"}),
        "phone" => {
            json!({"phone": "0584-12-3456", "contact_preference": "phone", "consent_contact": true})
        }
        _ => json!({"email": email, "contact_preference": "email", "consent_contact": false}),
    };
    let mut full = json!({"family_name": "佐藤", "given_name": given, "family_name_kana": "さとう",
                          "given_name_kana": "たろう", "confirm_new_person": true});
    for (k, v) in body.as_object().unwrap() {
        full[k] = v.clone();
    }
    app.post_ok("/api/v1/residents", &app.admin_token, &full, 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn setup_organisation(app: &TestApp) {
    let res = app
        .patch(
            "/api/v1/organisation",
            &app.admin_token,
            &json!({"contact_phone": "0584-00-1111", "mail_signature": "平日 9:00〜17:00"}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// A session at a venue with an address; (session id, venue id, the
/// session's local date and time as a letter writes it).
async fn session(app: &TestApp, capacity: i64) -> (String, String, String) {
    let venue = app
        .post_ok(
            "/api/v1/venues",
            &app.admin_token,
            &json!({"name": format!("北公民館 {}", uuid::Uuid::now_v7()), "address": "北町1-2-3", "default_capacity": 20}),
            201,
        )
        .await;
    let venue = venue["id"].as_str().unwrap().to_owned();
    let id = app.session_ok(capacity, json!({"venue_id": venue})).await;
    let shown = app
        .get_ok(&format!("/api/v1/sessions/{id}"), &app.admin_token)
        .await;
    let tz = chrono_tz::Asia::Tokyo;
    let start = chrono::DateTime::parse_from_rfc3339(shown["starts_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let end = chrono::DateTime::parse_from_rfc3339(shown["ends_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    (
        id,
        venue,
        madoguchi::messages::letters::when(start, end, &tz),
    )
}

async fn book(app: &TestApp, session: &str, resident: &str) -> Value {
    app.post_ok(
        &format!("/api/v1/sessions/{session}/bookings"),
        &app.admin_token,
        &json!({"resident_id": resident, "channel": "phone"}),
        201,
    )
    .await
}

async fn mail_goes_to_those_who_want_it_and_calls_to_the_others(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let inbox = Inbox::default();
    let settings = smtp_settings(inbox.start(0));
    setup_organisation(&app).await;
    let (session, venue, when) = session(&app, 1).await;
    let hanako = resident(&app, "花子", "email", "hanako@kita.example").await;
    let taro = resident(&app, "太郎", "phone", "").await;
    let quiet = resident(&app, "静", "no_consent", "shizuka@kita.example").await;

    let first = book(&app, &session, &hanako).await;
    book(&app, &session, &taro).await;
    book(&app, &session, &quiet).await;
    assert_eq!(deliver(&app, &settings).await, 1);
    let mails = inbox.to("hanako@kita.example");
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(
        mail.subject().contains("ご予約を受け付けました"),
        "{}",
        mail.subject()
    );
    let body = mail.body();
    let reference = first["reference"].as_str().unwrap();
    for needed in [
        "佐藤 花子 様".to_owned(),
        when.clone(),
        "住所：北町1-2-3".to_owned(),
        format!("予約番号：{} {}", &reference[..3], &reference[3..]),
        "参加費：100円".to_owned(),
        "電話：0584-00-1111".to_owned(),
        "平日 9:00〜17:00".to_owned(),
    ] {
        assert!(body.contains(&needed), "{needed:?} not in\n{body}");
    }
    assert!(mail.header("Message-ID").contains("@madoguchi>"));
    assert!(
        mail.header("Content-Type")
            .to_ascii_lowercase()
            .contains("utf-8")
    );
    assert!(
        inbox.to("shizuka@kita.example").is_empty(),
        "no mail without consent"
    );

    // Hanako cancels: she is told by mail; 太郎 is promoted and, having no
    // email, goes on the call list with what to read.
    let id = first["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/bookings/{id}/cancel"),
        &app.admin_token,
        &json!({"reason": "体調不良"}),
        200,
    )
    .await;
    assert_eq!(deliver(&app, &settings).await, 1);
    assert!(
        inbox.to("hanako@kita.example")[1]
            .subject()
            .contains("取り消し")
    );
    let calls = app.get_ok("/api/v1/call-list", &app.admin_token).await;
    let items = calls["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{calls}");
    let call = &items[0];
    assert_eq!(call["resident"]["id"], taro);
    assert_eq!(call["resident"]["phone"], "0584123456");
    assert_eq!(call["reason"], "booking_promoted");
    assert_eq!(call["status"], "open");
    assert_eq!(call["venue_id"], venue);
    assert!(call["booking_id"].is_string());
    assert!(call["script"].as_str().unwrap().contains("予約が確定"));

    // Volunteers see the calls of their venue only.
    let (vol, vol_token) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let none = app.get_ok("/api/v1/call-list", &vol_token).await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    let call_id = call["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/call-list/{call_id}/outcome"),
            &vol_token,
            &json!({"outcome": "reached"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    app.patch(
        &format!("/api/v1/staff/{}", vol["id"].as_str().unwrap()),
        &app.admin_token,
        &json!({"venue_id": venue}),
    )
    .await;
    let mine = app.get_ok("/api/v1/call-list", &vol_token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    // No answer: back the next working day; reached: closed.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let again = app
        .post_ok(
            &format!("/api/v1/call-list/{call_id}/outcome"),
            &vol_token,
            &json!({"outcome": "no_answer", "note": "留守"}),
            200,
        )
        .await;
    assert_eq!(again["status"], "open");
    assert_eq!(again["tries"], 1);
    let due: chrono::NaiveDate = again["due_on"].as_str().unwrap().parse().unwrap();
    assert!(due > today, "{due} after {today}");
    let done = app
        .post_ok(
            &format!("/api/v1/call-list/{call_id}/outcome"),
            &vol_token,
            &json!({"outcome": "reached"}),
            200,
        )
        .await;
    assert_eq!(done["status"], "done");
    let res = app
        .post(
            &format!("/api/v1/call-list/{call_id}/outcome"),
            &app.admin_token,
            &json!({"outcome": "reached"}),
        )
        .await;
    assert_problem(res, 409, "invalid_transition").await;
    let res = app
        .post(
            &format!("/api/v1/call-list/{call_id}/outcome"),
            &app.admin_token,
            &json!({"outcome": "maybe"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let closed = app
        .get_ok("/api/v1/call-list?status=done", &app.admin_token)
        .await;
    assert_eq!(closed["items"][0]["last_outcome"], "reached");
}

async fn a_change_that_rolls_back_sends_nothing(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let (session, _, _) = session(&app, 5).await;
    let hanako = resident(&app, "花子", "email", "hanako@kita.example").await;
    // A seat is taken, then the loaner check refuses: everything rolls back.
    let res = app
        .post(
            &format!("/api/v1/sessions/{session}/bookings"),
            &app.admin_token,
            &json!({"resident_id": hanako, "channel": "phone", "needs_loaner": true}),
        )
        .await;
    assert_problem(res, 409, "no_loaner_available").await;
    assert!(
        outbox_rows(&app).is_empty(),
        "no message for a rolled-back booking"
    );
    book(&app, &session, &hanako).await;
    assert_eq!(outbox_rows(&app).len(), 1);
}

async fn the_mail_server_down_loses_nothing_and_sends_each_once(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let settings = smtp_settings(port);
    let hanako = resident(&app, "花子", "email", "hanako@kita.example").await;
    let jiro = resident(&app, "次郎", "email", "jiro@kita.example").await;
    let mut references = Vec::new();
    for _ in 0..3 {
        let (s, _, _) = session(&app, 5).await;
        references.push(book(&app, &s, &hanako).await["reference"].clone());
        book(&app, &s, &jiro).await;
    }
    // Nobody listens: nothing is sent, nothing is lost, no try is used up.
    assert_eq!(deliver(&app, &settings).await, 0);
    let rows = outbox_rows(&app);
    assert_eq!(rows.len(), 6);
    assert!(
        rows.iter()
            .all(|(_, status, attempts)| status == "pending" && *attempts == 0)
    );
    let stats = app.get_ok("/api/v1/outbox/stats", &app.admin_token).await;
    assert_eq!(stats["pending"], 6);
    let failed_list = app
        .get_ok("/api/v1/outbox?status=pending", &app.admin_token)
        .await;
    assert!(failed_list["items"][0]["last_error"].is_string());

    // The server comes back: everything goes, once, in order per resident.
    let inbox = Inbox::default();
    inbox.start(port);
    assert_eq!(deliver(&app, &settings).await, 6);
    assert_eq!(deliver(&app, &settings).await, 0, "nothing twice");
    let hers = inbox.to("hanako@kita.example");
    assert_eq!(hers.len(), 3);
    for (mail, reference) in hers.iter().zip(&references) {
        let r = reference.as_str().unwrap();
        assert!(mail.body().contains(&format!("{} {}", &r[..3], &r[3..])));
    }
    assert_eq!(inbox.to("jiro@kita.example").len(), 3);
    let ids: std::collections::HashSet<String> = inbox
        .messages()
        .iter()
        .map(|m| m.header("Message-ID"))
        .collect();
    assert_eq!(ids.len(), 6);
    let stats = app.get_ok("/api/v1/outbox/stats", &app.admin_token).await;
    assert_eq!(
        (stats["pending"].as_i64(), stats["sent"].as_i64()),
        (Some(0), Some(6))
    );
}

async fn refusals_back_off_then_fail_and_staff_can_retry(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let inbox = Inbox::default();
    let settings = smtp_settings(inbox.start(0));
    let (s1, _, _) = session(&app, 5).await;
    let (s2, _, _) = session(&app, 5).await;
    let busy = resident(&app, "忙", "email", "busy@kita.example").await;
    let gone = resident(&app, "無", "email", "nobody@kita.example").await;
    book(&app, &s1, &busy).await;
    book(&app, &s2, &busy).await;
    book(&app, &s1, &gone).await;
    assert_eq!(deliver(&app, &settings).await, 0);
    let rows = outbox_rows(&app);
    // A temporary refusal waits and holds back the next mail to her; a
    // permanent one fails at once.
    assert_eq!(rows[0], ("busy@kita.example".into(), "pending".into(), 1));
    assert_eq!(rows[1], ("busy@kita.example".into(), "pending".into(), 0));
    assert_eq!(rows[2], ("nobody@kita.example".into(), "failed".into(), 1));
    let waiting = app
        .get_ok("/api/v1/outbox?status=pending", &app.admin_token)
        .await;
    let next = chrono::DateTime::parse_from_rfc3339(
        waiting["items"][0]["next_attempt_at"].as_str().unwrap(),
    )
    .unwrap();
    let wait = next.with_timezone(&Utc) - Utc::now();
    assert!(
        wait > Duration::seconds(30) && wait <= Duration::minutes(1),
        "{wait}"
    );
    assert_eq!(deliver(&app, &settings).await, 0, "not due yet");
    assert_eq!(outbox_rows(&app)[0].2, 1);

    // Past the waits, the last try fails it; staff see it and retry.
    for expected in [2, 3] {
        let mut conn = app.pool.get().unwrap();
        diesel::update(outbox_messages::table)
            .set(outbox_messages::next_attempt_at.eq(Utc::now().naive_utc() - Duration::minutes(1)))
            .execute(&mut *conn)
            .unwrap();
        drop(conn);
        deliver(&app, &settings).await;
        assert_eq!(outbox_rows(&app)[0].2, expected);
    }
    let failed = app
        .get_ok("/api/v1/outbox?status=failed", &app.admin_token)
        .await;
    let items = failed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{failed}");
    assert!(
        items
            .iter()
            .all(|m| m["last_error"].as_str().is_some_and(|e| !e.is_empty()))
    );
    let id = items[0]["id"].as_str().unwrap();
    let retried = app
        .post_ok(
            &format!("/api/v1/outbox/{id}/retry"),
            &app.admin_token,
            &json!({}),
            200,
        )
        .await;
    assert_eq!(retried["status"], "pending");
    assert_eq!(retried["attempts"], 0);
    let res = app
        .post(
            &format!("/api/v1/outbox/{id}/retry"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "invalid_transition").await;
    let (_, coordinator) = app.staff_with_token("vol2@kita.example", "volunteer").await;
    let res = app.get("/api/v1/outbox?status=failed", &coordinator).await;
    assert_eq!(res.status(), 403);
}

async fn reminders_go_out_once_at_the_chosen_hour(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let inbox = Inbox::default();
    let settings = smtp_settings(inbox.start(0));
    let res = app
        .patch(
            "/api/v1/organisation",
            &app.admin_token,
            &json!({"reminders": ["2h"]}),
        )
        .await;
    let org: Value = res.json().await.unwrap();
    assert_eq!(org["reminders"], json!(["2h"]));
    let res = app
        .patch(
            "/api/v1/organisation",
            &app.admin_token,
            &json!({"reminders": ["soon"]}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;

    let (session, _, _) = session(&app, 5).await;
    let hanako = resident(&app, "花子", "email", "hanako@kita.example").await;
    let taro = resident(&app, "太郎", "phone", "").await;
    let quiet = resident(&app, "取消", "email", "gone@kita.example").await;
    book(&app, &session, &hanako).await;
    book(&app, &session, &taro).await;
    let cancelled = book(&app, &session, &quiet).await;
    let id = cancelled["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/bookings/{id}/cancel"),
        &app.admin_token,
        &json!({"reason": "都合"}),
        200,
    )
    .await;
    deliver(&app, &settings).await;
    let before = inbox.messages().len();

    // Booked yesterday; the class starts in 90 minutes: the 2-hour
    // reminder is due.
    {
        let mut conn = app.pool.get().unwrap();
        diesel::update(bookings::table)
            .set(bookings::created_at.eq(Utc::now().naive_utc() - Duration::days(1)))
            .execute(&mut *conn)
            .unwrap();
    }
    app.set_session_start(&session, Duration::minutes(90));
    let run = || {
        let pool = app.pool.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().unwrap();
                madoguchi::bookings::reminders::send_due(&mut conn).unwrap()
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(run().await, 2, "花子 by mail, 太郎 by a call");
    assert_eq!(run().await, 0, "never twice");
    deliver(&app, &settings).await;
    let new: Vec<Received> = inbox.messages()[before..].to_vec();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].to, ["hanako@kita.example"]);
    assert!(new[0].subject().contains("ご予約の確認"));
    let calls = app
        .get_ok("/api/v1/call-list?reason=reminder", &app.admin_token)
        .await;
    assert_eq!(calls["items"].as_array().unwrap().len(), 1);
    assert_eq!(calls["items"][0]["resident"]["id"], taro);

    // Moving the session tells them, and does not send the reminder again.
    let tomorrow = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive()
        + Duration::days(1);
    app.post_ok(
        &format!("/api/v1/sessions/{session}/move"),
        &app.admin_token,
        &json!({"date": tomorrow, "start_time": "10:00", "end_time": "12:00"}),
        200,
    )
    .await;
    deliver(&app, &settings).await;
    let moved: Vec<Received> = inbox.messages()[before + 1..].to_vec();
    assert_eq!(moved.len(), 1);
    assert!(
        moved[0].subject().contains("変更"),
        "{}",
        moved[0].subject()
    );
    assert!(moved[0].body().contains("変更前："));
    let calls = app
        .get_ok("/api/v1/call-list?reason=session_moved", &app.admin_token)
        .await;
    assert_eq!(calls["items"].as_array().unwrap().len(), 1);
    {
        let mut conn = app.pool.get().unwrap();
        diesel::update(bookings::table)
            .set(bookings::created_at.eq(Utc::now().naive_utc() - Duration::days(3)))
            .execute(&mut *conn)
            .unwrap();
    }
    app.set_session_start(&session, Duration::minutes(60));
    assert_eq!(run().await, 0, "a moved session is not reminded twice");
}

async fn questions_in_writing_are_acknowledged_and_answered_by_mail(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let inbox = Inbox::default();
    let settings = smtp_settings(inbox.start(0));
    let ticket = app
        .post_ok(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"channel": "email", "category": "photos_printing", "subject": "写真の印刷",
                    "contact_email": "ask@kita.example", "contact_name": "山田"}),
            201,
        )
        .await;
    let id = ticket["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/tickets/{id}/notes"),
        &app.admin_token,
        &json!({"body": "コンビニのマルチコピー機で印刷できます。", "kind": "reply"}),
        201,
    )
    .await;
    assert_eq!(deliver(&app, &settings).await, 2);
    let mails = inbox.to("ask@kita.example");
    assert!(mails[0].subject().contains("ご相談を受け付けました"));
    assert!(mails[1].body().contains("マルチコピー機"));

    // A resident who gets calls hears the answer on the phone.
    let taro = resident(&app, "太郎", "phone", "").await;
    let phoned = app
        .post_ok(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"channel": "phone", "category": "photos_printing", "subject": "LINEの写真", "resident_id": taro}),
            201,
        )
        .await;
    let pid = phoned["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/tickets/{pid}/notes"),
        &app.admin_token,
        &json!({"body": "アルバムから選んで保存します。", "kind": "reply"}),
        201,
    )
    .await;
    let calls = app
        .get_ok("/api/v1/call-list?reason=ticket_reply", &app.admin_token)
        .await;
    assert_eq!(calls["items"][0]["ticket_id"], pid);
    assert!(
        calls["items"][0]["script"]
            .as_str()
            .unwrap()
            .contains("アルバム")
    );
}

async fn the_file_transport_writes_what_would_have_been_sent(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default().mail;
    settings.file_dir = dir.path().to_string_lossy().into_owned();
    let (session, _, _) = session(&app, 5).await;
    let hanako = resident(&app, "花子", "email", "hanako@kita.example").await;
    book(&app, &session, &hanako).await;
    assert_eq!(deliver(&app, &settings).await, 1);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(&files[0])
        .unwrap()
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n");
    let mail = Received { to: vec![], raw };
    assert!(mail.subject().contains("ご予約を受け付けました"));
    assert!(mail.header("To").contains("hanako@kita.example"));
}

async fn several_instances_deliver_each_message_once(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let inbox = Inbox::default();
    let settings = smtp_settings(inbox.start(0));
    let mut residents = Vec::new();
    for i in 0..4 {
        residents.push(
            resident(
                &app,
                &format!("住民{i}"),
                "email",
                &format!("r{i}@kita.example"),
            )
            .await,
        );
    }
    for _ in 0..3 {
        let (s, _, _) = session(&app, 10).await;
        for r in &residents {
            book(&app, &s, r).await;
        }
    }
    // Four instances run the job at once, twice each, as their loops would.
    let mut runs = Vec::new();
    for instance in 0..4 {
        let (pool, settings, runtime) = (
            app.pool.clone(),
            settings.clone(),
            tokio::runtime::Handle::current(),
        );
        runs.push(tokio::task::spawn_blocking(move || {
            let mailer = Arc::new(Mailer::from_settings(&settings).unwrap());
            let job = delivery::job(mailer, runtime, settings);
            let mut conn = pool.get().unwrap();
            for _ in 0..2 {
                madoguchi::jobs::run_once(&mut conn, &job, &format!("instance-{instance}"))
                    .unwrap();
            }
        }));
    }
    for run in runs {
        run.await.unwrap();
    }
    // Whatever a lease left for later goes on the next run.
    deliver(&app, &settings).await;
    let received = inbox.messages();
    assert_eq!(received.len(), 12, "every message once");
    let ids: std::collections::HashSet<String> =
        received.iter().map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), 12, "no message twice");
}

db_tests!(
    several_instances_deliver_each_message_once,
    mail_goes_to_those_who_want_it_and_calls_to_the_others,
    a_change_that_rolls_back_sends_nothing,
    the_mail_server_down_loses_nothing_and_sends_each_once,
    refusals_back_off_then_fail_and_staff_can_retry,
    reminders_go_out_once_at_the_chosen_hour,
    questions_in_writing_are_acknowledged_and_answered_by_mail,
    the_file_transport_writes_what_would_have_been_sent,
);
