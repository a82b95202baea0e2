//! The report benchmark: one organisation with 100,000 bookings (5,000
//! sessions of 20 seats over a year, 10,000 residents) and 20,000
//! consultations, then the time of the year's summary (the same function
//! `GET /api/v1/reports/summary` runs), median and worst of several runs.
//!
//! ```sh
//! cargo run --release --example report_bench -- sqlite
//! cargo run --release --example report_bench -- postgres          # MADOGUCHI_TEST_PG_URL or postgres://postgres@127.0.0.1:5432
//! cargo run --release --example report_bench -- sqlite 100000 20000 5   # bookings, tickets, runs
//! cargo run --release --example report_bench -- sqlite 100000 20000 3 50 # the same spread over 50
//!                                                # member organisations: the programme roll-up
//! ```
//!
//! Rows are written straight into the tables (the booking rules are not
//! what is measured here); a PostgreSQL scratch database is dropped at the
//! end.

use std::time::Instant;

use chrono::{Duration, NaiveTime, Utc};
use diesel::prelude::*;
use madoguchi::auth::Role;
use madoguchi::db::schema::{bookings, residents, sessions, tickets};
use madoguchi::db::{
    AccountId, BookingId, CourseId, DbConnection, OrganisationId, ResidentId, SessionId, TicketId,
    VenueId, write_tx,
};
use madoguchi::error::AppError;
use madoguchi::staff::service::{self, NewStaff};
use secrecy::SecretString;

fn pg_server() -> String {
    std::env::var("MADOGUCHI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let kind = a.first().cloned().unwrap_or_else(|| "sqlite".into());
    let n_bookings: usize = a.get(1).and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let n_tickets: usize = a.get(2).and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let runs: usize = a.get(3).and_then(|v| v.parse().ok()).unwrap_or(5);
    let members: usize = a.get(4).and_then(|v| v.parse().ok()).unwrap_or(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, drop) = if kind == "postgres" {
        let name = format!("madoguchi_report_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&format!("{}/postgres", pg_server()))
            .expect("postgres");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .expect("create database");
        (format!("{}/{name}", pg_server()), Some(name))
    } else {
        (
            dir.path().join("report.db").to_string_lossy().into_owned(),
            None,
        )
    };
    let pool = madoguchi::db::connect_pool(&url, 4, std::time::Duration::from_secs(30), 5000)
        .expect("pool");
    let mut conn = pool.get().expect("connection");
    madoguchi::db::run_migrations(&mut conn).expect("migrations");
    let started = Instant::now();
    if members > 0 {
        programme(&mut conn, &kind, n_bookings, n_tickets, runs, members);
        drop_db(drop);
        return;
    }
    let (org, _) = seed(&mut conn, "報告ベンチ", n_bookings, n_tickets);
    println!(
        "{kind}: seeded {n_bookings} bookings and {n_tickets} consultations in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let today = Utc::now().date_naive();
    let (from, to) = (today - Duration::days(365), today);
    let scope = madoguchi::reports::queries::Scope::default();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let s =
            madoguchi::reports::routes::compute(&mut conn, org, from, to, &scope).expect("summary");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(s);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let s = last.unwrap();
    println!(
        "{kind}: summary of a year — median {:.0} ms, worst {:.0} ms over {runs} runs \
         (sessions held {}, bookings {}, participants {}, consultations {})",
        times[times.len() / 2],
        times[times.len() - 1],
        s.sessions_held,
        s.bookings,
        s.participants,
        s.consultations.total
    );
    drop_db(drop);
}

fn drop_db(name: Option<String>) {
    if let Some(name) = name {
        let mut admin = diesel::PgConnection::establish(&format!("{}/postgres", pg_server()))
            .expect("postgres");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .ok();
    }
}

/// Inserts rows one by one in one transaction (diesel's multi-backend
/// connection has no batch insert).
fn insert_all<T>(
    conn: &mut DbConnection,
    rows: &[T],
    one: impl Fn(&mut DbConnection, &T) -> QueryResult<usize>,
) {
    conn.transaction(|conn| {
        for row in rows {
            one(conn, row)?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .expect("insert");
}

/// `members` organisations sharing the bookings and tickets, all members of
/// one programme; times the roll-up.
fn programme(
    conn: &mut DbConnection,
    kind: &str,
    n_bookings: usize,
    n_tickets: usize,
    runs: usize,
    members: usize,
) {
    use madoguchi::db::schema::{programme_memberships, programme_viewers, programmes};
    let started = Instant::now();
    let pid = madoguchi::db::ProgrammeId::generate();
    let now = Utc::now().naive_utc();
    let mut first = None;
    for i in 0..members {
        let (org, admin) = seed(
            conn,
            &format!("市町村{i:02}"),
            n_bookings / members,
            n_tickets / members,
        );
        if first.is_none() {
            diesel::insert_into(programmes::table)
                .values((
                    programmes::id.eq(pid),
                    programmes::owner_organisation_id.eq(org),
                    programmes::name.eq("ベンチ県"),
                    programmes::min_cell_size.eq(5),
                    programmes::created_at.eq(now),
                ))
                .execute(conn)
                .expect("programme");
            diesel::insert_into(programme_viewers::table)
                .values((
                    programme_viewers::programme_id.eq(pid),
                    programme_viewers::account_id.eq(admin),
                    programme_viewers::granted_at.eq(now),
                ))
                .execute(conn)
                .expect("viewer");
            first = Some(org);
        }
        diesel::insert_into(programme_memberships::table)
            .values((
                programme_memberships::programme_id.eq(pid),
                programme_memberships::organisation_id.eq(org),
                programme_memberships::granted_by.eq(admin),
                programme_memberships::granted_at.eq(now),
            ))
            .execute(conn)
            .expect("member");
    }
    println!(
        "{kind}: seeded {members} organisations with {n_bookings} bookings and {n_tickets} consultations in all in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let today = Utc::now().date_naive();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r =
            madoguchi::reports::programmes::compute(conn, pid, today - Duration::days(365), today)
                .expect("roll-up");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(r);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let r = last.unwrap();
    println!(
        "{kind}: programme roll-up over {} members — median {:.0} ms, worst {:.0} ms over {runs} runs (sessions held {})",
        r.members.len(),
        times[times.len() / 2],
        times[times.len() - 1],
        r.total.sessions_held
    );
}

fn seed(
    conn: &mut DbConnection,
    name: &str,
    n_bookings: usize,
    n_tickets: usize,
) -> (OrganisationId, AccountId) {
    let new = NewStaff::parse(
        &format!("admin{}@bench.example", uuid::Uuid::new_v4().simple()),
        "Admin",
        Role::Admin,
        None,
        &SecretString::from("report bench admin password"),
    )
    .expect("admin");
    let (org, admin, venues, courses) = write_tx(conn, |conn: &mut DbConnection| {
        let org = madoguchi::organisations::queries::insert(conn, name)?;
        let admin = service::create(conn, org.id, None, &new, "x", false)?;
        let mut venues = Vec::new();
        for i in 0..5 {
            let changes = madoguchi::venues::types::VenueInput {
                name: Some(format!("会場{i}")),
                address: None,
                room: None,
                default_capacity: Some(20),
                phone: None,
                accessibility_notes: None,
                online_url: None,
                active: None,
            }
            .parse(true)?;
            venues.push(madoguchi::venues::queries::insert(conn, org.id, changes)?.id);
        }
        let mut courses = Vec::new();
        for i in 0..10 {
            let (changes, _) = madoguchi::courses::types::CourseInput {
                title: Some(format!("講座{i}")),
                description: None,
                audience: None,
                level: None,
                kind: Some(madoguchi::courses::types::CourseKind::Class),
                default_fee_yen: Some(100),
                default_length_minutes: Some(120),
                topics: None,
                active: None,
                eligibility: None,
            }
            .parse(true)?;
            let c = madoguchi::courses::queries::insert(conn, org.id, changes)?;
            madoguchi::courses::queries::set_topics(
                conn,
                org.id,
                c.id,
                &[if i % 2 == 0 {
                    "calls"
                } else {
                    "my_number_card"
                }
                .to_owned()],
            )?;
            courses.push(c.id);
        }
        Ok::<_, AppError>((org.id, admin.id, venues, courses))
    })
    .expect("organisation");
    let now = Utc::now().naive_utc();
    let n_residents = (n_bookings / 10).max(1);
    let people: Vec<ResidentId> = (0..n_residents).map(|_| ResidentId::generate()).collect();
    for chunk in people.chunks(5000) {
        let rows: Vec<madoguchi::residents::types::ResidentRow> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| madoguchi::residents::types::ResidentRow {
                id: *id,
                organisation_id: org,
                family_name: "負荷".into(),
                given_name: format!("{i}"),
                family_name_kana: "ふか".into(),
                given_name_kana: "たろう".into(),
                search_text: "ふか".into(),
                phone: None,
                email: None,
                birth_year: Some(1935 + (i % 40) as i32),
                age_band: None,
                district: Some(format!("地区{}", i % 12)),
                accessibility_needs: String::new(),
                contact_preference: "phone".into(),
                consent_contact: true,
                consent_data: true,
                device: None,
                notes: None,
                merged_into: None,
                created_by: Some(admin),
                created_at: now,
                updated_at: now,
            })
            .collect();
        insert_all(
            conn,
            &rows,
            |conn, row: &madoguchi::residents::types::ResidentRow| {
                diesel::insert_into(residents::table)
                    .values(row)
                    .execute(conn)
            },
        );
    }
    let n_sessions = n_bookings.div_ceil(20);
    let mut session_ids = Vec::with_capacity(n_sessions);
    let rows: Vec<madoguchi::schedule::types::SessionRow> = (0..n_sessions)
        .map(|i| {
            let starts = (Utc::now().date_naive() - Duration::days(1 + (i % 360) as i64))
                .and_time(NaiveTime::from_hms_opt(5, 0, 0).unwrap());
            let id = SessionId::generate();
            session_ids.push(id);
            madoguchi::schedule::types::SessionRow {
                id,
                organisation_id: org,
                series_id: None,
                occurrence_date: None,
                course_id: courses[i % courses.len()],
                venue_id: venues[i % venues.len()],
                room: None,
                starts_at: starts,
                ends_at: starts + Duration::hours(2),
                capacity: 20,
                seats_taken: 20,
                waitlist_count: 0,
                status: madoguchi::schedule::types::SessionStatus::Completed,
                cancel_reason: None,
                fee_yen: 100,
                loaner_fee_yen: 0,
                booking_opens_at: None,
                booking_closes_at: None,
                waitlist_enabled: true,
                detached: false,
                created_at: now,
                updated_at: now,
                waitlist_seq: 0,
                allocation: madoguchi::schedule::types::Allocation::FirstCome,
                applications_close_at: None,
                draw_at: None,
                offer_hours: None,
                first_timers_first: false,
                drawn_at: None,
                applications_count: 0,
            }
        })
        .collect();
    for chunk in rows.chunks(5000) {
        insert_all(
            conn,
            chunk,
            |conn, row: &madoguchi::schedule::types::SessionRow| {
                diesel::insert_into(sessions::table)
                    .values(row)
                    .execute(conn)
            },
        );
    }
    let marks = ["present", "present", "present", "late", "no_show", "absent"];
    let booking_rows: Vec<madoguchi::bookings::types::BookingRow> = (0..n_bookings)
        .map(|i| madoguchi::bookings::types::BookingRow {
            id: BookingId::generate(),
            organisation_id: org,
            session_id: session_ids[i / 20],
            resident_id: people[(i * 7919) % people.len()],
            status: madoguchi::bookings::types::BookingStatus::Confirmed,
            channel: if i % 3 == 0 {
                madoguchi::bookings::types::Channel::Counter
            } else {
                madoguchi::bookings::types::Channel::Phone
            },
            reference: format!("{}{i:07}", &org.to_string()[24..]),
            needs_loaner: false,
            notes: None,
            waitlist_seq: None,
            over_capacity: false,
            fee_due_yen: 100,
            window_override_reason: None,
            entered_by: admin,
            cancel_reason: None,
            cancelled_by: None,
            cancelled_at: None,
            promoted_at: None,
            attendance: Some(marks[i % marks.len()].to_owned()),
            attendance_marked_by: Some(admin),
            attendance_marked_at: Some(now),
            created_at: now,
            updated_at: now,
            enrolment_id: None,
            fee_exemption_reason: None,
            class_fee_yen: 100,
            loaner_fee_yen: 0,
            eligibility_override_reason: None,
            offered_at: None,
            offer_expires_at: None,
        })
        .collect();
    for chunk in booking_rows.chunks(5000) {
        insert_all(
            conn,
            chunk,
            |conn, row: &madoguchi::bookings::types::BookingRow| {
                diesel::insert_into(bookings::table)
                    .values(row)
                    .execute(conn)
            },
        );
    }
    let channels = [
        madoguchi::tickets::types::TicketChannel::Phone,
        madoguchi::tickets::types::TicketChannel::FaceToFace,
        madoguchi::tickets::types::TicketChannel::Email,
    ];
    let ticket_rows: Vec<madoguchi::tickets::types::TicketRow> = (0..n_tickets)
        .map(|i| {
            let received = now - Duration::hours(1 + (i % 8000) as i64);
            let resolved = i % 3 != 0;
            madoguchi::tickets::types::TicketRow {
                id: TicketId::generate(),
                organisation_id: org,
                channel: channels[i % channels.len()],
                status: if resolved {
                    madoguchi::tickets::types::TicketStatus::Resolved
                } else {
                    madoguchi::tickets::types::TicketStatus::New
                },
                priority: madoguchi::tickets::types::Priority::Normal,
                category: if i % 2 == 0 { "smartphone" } else { "pc" }.into(),
                subject: "相談".into(),
                description: None,
                device: None,
                os: None,
                resident_id: None,
                booking_id: None,
                contact_name: None,
                contact_phone: None,
                contact_email: None,
                venue_id: Some(venues[i % venues.len()]),
                queue_date: None,
                queue_number: None,
                called_at: None,
                assignee_id: resolved.then_some(admin),
                taken_by: admin,
                first_response_at: resolved.then(|| received + Duration::minutes(30)),
                resolved_at: resolved.then(|| received + Duration::hours(3)),
                closed_at: None,
                created_at: received,
                updated_at: received,
                merged_into: None,
                received_at: received,
            }
        })
        .collect();
    for chunk in ticket_rows.chunks(5000) {
        insert_all(
            conn,
            chunk,
            |conn, row: &madoguchi::tickets::types::TicketRow| {
                diesel::insert_into(tickets::table)
                    .values(row)
                    .execute(conn)
            },
        );
    }
    let _: (CourseId, VenueId) = (courses[0], venues[0]);
    (org, admin)
}
