-- Residents, bookings (with waitlist and attendance), booking events for the
-- mail outbox, and idempotency keys.

ALTER TABLE sessions ADD COLUMN waitlist_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE residents (
    id                   TEXT PRIMARY KEY NOT NULL,
    organisation_id      TEXT NOT NULL REFERENCES organisations(id),
    family_name          TEXT NOT NULL,
    given_name           TEXT NOT NULL,
    family_name_kana     TEXT NOT NULL,
    given_name_kana      TEXT NOT NULL,
    search_text          TEXT NOT NULL,
    phone                TEXT,
    email                TEXT,
    birth_year           INTEGER,
    age_band             TEXT,
    district             TEXT,
    accessibility_needs  TEXT NOT NULL DEFAULT '',
    contact_preference   TEXT NOT NULL CHECK (contact_preference IN ('phone', 'email', 'none')),
    consent_contact      BOOLEAN NOT NULL DEFAULT FALSE,
    consent_data         BOOLEAN NOT NULL DEFAULT FALSE,
    device               TEXT,
    notes                TEXT,
    merged_into          TEXT REFERENCES residents(id),
    created_by           TEXT REFERENCES staff_accounts(id),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX residents_org_idx ON residents (organisation_id, id);
CREATE INDEX residents_phone_idx ON residents (organisation_id, phone);

CREATE TABLE bookings (
    id                      TEXT PRIMARY KEY NOT NULL,
    organisation_id         TEXT NOT NULL REFERENCES organisations(id),
    session_id              TEXT NOT NULL REFERENCES sessions(id),
    resident_id             TEXT NOT NULL REFERENCES residents(id),
    status                  TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    channel                 TEXT NOT NULL CHECK (channel IN ('phone', 'counter', 'email', 'web', 'walk_in')),
    reference               TEXT NOT NULL,
    needs_loaner            BOOLEAN NOT NULL DEFAULT FALSE,
    notes                   TEXT,
    waitlist_seq            INTEGER,
    over_capacity           BOOLEAN NOT NULL DEFAULT FALSE,
    fee_due_yen             INTEGER NOT NULL CHECK (fee_due_yen >= 0),
    window_override_reason  TEXT,
    entered_by              TEXT NOT NULL REFERENCES staff_accounts(id),
    cancel_reason           TEXT,
    cancelled_by            TEXT REFERENCES staff_accounts(id),
    cancelled_at            TIMESTAMP,
    promoted_at             TIMESTAMP,
    attendance              TEXT CHECK (attendance IN ('present', 'late', 'absent', 'no_show')),
    attendance_marked_by    TEXT REFERENCES staff_accounts(id),
    attendance_marked_at    TIMESTAMP,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX bookings_reference_idx ON bookings (organisation_id, reference);
CREATE UNIQUE INDEX bookings_one_active_idx ON bookings (session_id, resident_id) WHERE status IN ('confirmed', 'waitlisted');
CREATE INDEX bookings_session_idx ON bookings (session_id, status);
CREATE INDEX bookings_resident_idx ON bookings (resident_id);

CREATE TABLE booking_events (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    booking_id       TEXT NOT NULL REFERENCES bookings(id),
    kind             TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    processed_at     TIMESTAMP
);
CREATE INDEX booking_events_pending_idx ON booking_events (processed_at, created_at);

CREATE TABLE idempotency_keys (
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    idem_key         TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  INTEGER,
    response_body    TEXT,
    created_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_id, idem_key)
);
