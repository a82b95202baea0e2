-- Schedule: topics, venues, courses, closures, recurring series and their
-- dated sessions, calendar feeds, and leases for background jobs.
-- Session instants are UTC; series times and closures are local wall-clock
-- times in the organisation's timezone.

CREATE TABLE topics (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT REFERENCES organisations(id),
    code             TEXT NOT NULL,
    label            TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX topics_org_code_idx ON topics (organisation_id, code);

INSERT INTO topics (id, organisation_id, code, label, created_at) VALUES
 ('00000000-0000-7000-8000-000000000001', NULL, 'power_and_buttons', '電源・ボタン操作', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000002', NULL, 'calls', '電話のかけ方・受け方', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000003', NULL, 'camera', 'カメラ', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000004', NULL, 'internet', 'インターネット', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000005', NULL, 'email', 'メール', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000006', NULL, 'maps', '地図アプリ', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000007', NULL, 'line_and_social', 'LINE・SNS', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000008', NULL, 'online_shopping', 'ネットショッピング', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000009', NULL, 'cashless_payment', 'キャッシュレス決済', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-00000000000a', NULL, 'my_number_card', 'マイナンバーカード', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-00000000000b', NULL, 'mynaportal', 'マイナポータル', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-00000000000c', NULL, 'e_tax', 'e-Tax', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-00000000000d', NULL, 'online_medical_booking', 'オンライン診療予約', '2026-11-27 00:00:00');

CREATE TABLE venues (
    id                   TEXT PRIMARY KEY NOT NULL,
    organisation_id      TEXT NOT NULL REFERENCES organisations(id),
    name                 TEXT NOT NULL,
    address              TEXT,
    room                 TEXT,
    default_capacity     INTEGER NOT NULL CHECK (default_capacity > 0),
    phone                TEXT,
    accessibility_notes  TEXT,
    online_url           TEXT,
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX venues_org_name_idx ON venues (organisation_id, name);

CREATE TABLE courses (
    id                      TEXT PRIMARY KEY NOT NULL,
    organisation_id         TEXT NOT NULL REFERENCES organisations(id),
    title                   TEXT NOT NULL,
    description             TEXT,
    audience                TEXT,
    level                   TEXT CHECK (level IN ('basic', 'applied')),
    kind                    TEXT NOT NULL CHECK (kind IN ('class', 'cafe', 'consultation')),
    default_fee_yen         INTEGER NOT NULL CHECK (default_fee_yen >= 0),
    default_length_minutes  INTEGER NOT NULL CHECK (default_length_minutes > 0),
    active                  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL
);
CREATE INDEX courses_org_idx ON courses (organisation_id, id);

CREATE TABLE course_topics (
    course_id   TEXT NOT NULL REFERENCES courses(id),
    topic_code  TEXT NOT NULL,
    PRIMARY KEY (course_id, topic_code)
);

CREATE TABLE closures (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    starts_local     TIMESTAMP NOT NULL,
    ends_local       TIMESTAMP NOT NULL,
    reason           TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    CHECK (ends_local > starts_local)
);
CREATE INDEX closures_org_idx ON closures (organisation_id, starts_local);

CREATE TABLE series (
    id                              TEXT PRIMARY KEY NOT NULL,
    organisation_id                 TEXT NOT NULL REFERENCES organisations(id),
    course_id                       TEXT NOT NULL REFERENCES courses(id),
    venue_id                        TEXT NOT NULL REFERENCES venues(id),
    room                            TEXT,
    rrule                           TEXT NOT NULL,
    starts_on                       DATE NOT NULL,
    until_on                        DATE,
    occurrence_count                INTEGER,
    start_time                      TIME NOT NULL,
    end_time                        TIME NOT NULL,
    capacity                        INTEGER NOT NULL CHECK (capacity > 0),
    fee_yen                         INTEGER NOT NULL CHECK (fee_yen >= 0),
    loaner_fee_yen                  INTEGER NOT NULL CHECK (loaner_fee_yen >= 0),
    booking_opens_days_before       INTEGER NOT NULL CHECK (booking_opens_days_before >= 0),
    booking_closes_minutes_before   INTEGER NOT NULL CHECK (booking_closes_minutes_before >= 0),
    waitlist_enabled                BOOLEAN NOT NULL DEFAULT TRUE,
    skip_public_holidays            BOOLEAN NOT NULL DEFAULT TRUE,
    skip_closures                   BOOLEAN NOT NULL DEFAULT TRUE,
    materialized_until              DATE NOT NULL,
    active                          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at                      TIMESTAMP NOT NULL,
    updated_at                      TIMESTAMP NOT NULL
);
CREATE INDEX series_org_idx ON series (organisation_id, id);

CREATE TABLE series_exception_dates (
    series_id  TEXT NOT NULL REFERENCES series(id),
    on_date    DATE NOT NULL,
    PRIMARY KEY (series_id, on_date)
);

CREATE TABLE series_instructors (
    series_id   TEXT NOT NULL REFERENCES series(id),
    account_id  TEXT NOT NULL REFERENCES staff_accounts(id),
    PRIMARY KEY (series_id, account_id)
);

CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY NOT NULL,
    organisation_id    TEXT NOT NULL REFERENCES organisations(id),
    series_id          TEXT REFERENCES series(id),
    occurrence_date    DATE,
    course_id          TEXT NOT NULL REFERENCES courses(id),
    venue_id           TEXT NOT NULL REFERENCES venues(id),
    room               TEXT,
    starts_at          TIMESTAMP NOT NULL,
    ends_at            TIMESTAMP NOT NULL,
    capacity           INTEGER NOT NULL CHECK (capacity > 0),
    seats_taken        INTEGER NOT NULL DEFAULT 0 CHECK (seats_taken >= 0),
    waitlist_count     INTEGER NOT NULL DEFAULT 0 CHECK (waitlist_count >= 0),
    status             TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled', 'completed')),
    cancel_reason      TEXT,
    fee_yen            INTEGER NOT NULL CHECK (fee_yen >= 0),
    loaner_fee_yen     INTEGER NOT NULL CHECK (loaner_fee_yen >= 0),
    booking_opens_at   TIMESTAMP,
    booking_closes_at  TIMESTAMP,
    waitlist_enabled   BOOLEAN NOT NULL DEFAULT TRUE,
    detached           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE UNIQUE INDEX sessions_series_occurrence_idx ON sessions (series_id, occurrence_date);
CREATE INDEX sessions_org_start_idx ON sessions (organisation_id, starts_at);
CREATE INDEX sessions_venue_start_idx ON sessions (venue_id, starts_at);

CREATE TABLE session_instructors (
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    account_id  TEXT NOT NULL REFERENCES staff_accounts(id),
    PRIMARY KEY (session_id, account_id)
);
CREATE INDEX session_instructors_account_idx ON session_instructors (account_id);

CREATE TABLE calendar_feeds (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    scope            TEXT NOT NULL CHECK (scope IN ('venue', 'instructor')),
    target_id        TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    created_at       TIMESTAMP NOT NULL,
    revoked_at       TIMESTAMP
);
CREATE INDEX calendar_feeds_target_idx ON calendar_feeds (scope, target_id);

CREATE TABLE job_leases (
    name         TEXT PRIMARY KEY NOT NULL,
    holder       TEXT,
    lease_until  TIMESTAMP
);
INSERT INTO job_leases (name, holder, lease_until) VALUES ('extend_sessions', NULL, NULL);
