-- Lottery (applications, a recorded draw) and held offers (issue 16).
--
-- SQLite cannot change a CHECK constraint in place: the bookings table is
-- rebuilt (SQLite's documented procedure, https://sqlite.org/lang_altertable.html
-- section 7). Foreign keys must be off while the old table is dropped, and
-- that pragma is ignored inside a transaction, so this migration runs outside
-- diesel's transaction (metadata.toml) and opens its own.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE bookings_new (
    id                      TEXT PRIMARY KEY NOT NULL,
    organisation_id         TEXT NOT NULL REFERENCES organisations(id),
    session_id              TEXT NOT NULL REFERENCES sessions(id),
    resident_id             TEXT NOT NULL REFERENCES residents(id),
    status                  TEXT NOT NULL CHECK (status IN ('applied', 'confirmed', 'offered', 'waitlisted', 'cancelled')),
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
    updated_at              TIMESTAMP NOT NULL,
    enrolment_id            TEXT REFERENCES enrolments(id),
    fee_exemption_reason    TEXT,
    class_fee_yen           INTEGER NOT NULL DEFAULT 0,
    loaner_fee_yen          INTEGER NOT NULL DEFAULT 0,
    eligibility_override_reason TEXT,
    age_band                TEXT,
    offered_at              TIMESTAMP,
    offer_expires_at        TIMESTAMP
);
INSERT INTO bookings_new (id, organisation_id, session_id, resident_id, status, channel, reference, needs_loaner, notes, waitlist_seq, over_capacity, fee_due_yen, window_override_reason, entered_by, cancel_reason, cancelled_by, cancelled_at, promoted_at, attendance, attendance_marked_by, attendance_marked_at, created_at, updated_at, enrolment_id, fee_exemption_reason, class_fee_yen, loaner_fee_yen, eligibility_override_reason, age_band)
    SELECT id, organisation_id, session_id, resident_id, status, channel, reference, needs_loaner, notes, waitlist_seq, over_capacity, fee_due_yen, window_override_reason, entered_by, cancel_reason, cancelled_by, cancelled_at, promoted_at, attendance, attendance_marked_by, attendance_marked_at, created_at, updated_at, enrolment_id, fee_exemption_reason, class_fee_yen, loaner_fee_yen, eligibility_override_reason, age_band FROM bookings;
DROP TABLE bookings;
ALTER TABLE bookings_new RENAME TO bookings;
CREATE UNIQUE INDEX bookings_reference_idx ON bookings (organisation_id, reference);
CREATE UNIQUE INDEX bookings_one_active_idx ON bookings (session_id, resident_id) WHERE status IN ('applied', 'confirmed', 'offered', 'waitlisted');
CREATE INDEX bookings_session_idx ON bookings (session_id, status);
CREATE INDEX bookings_resident_idx ON bookings (resident_id);
CREATE INDEX bookings_offer_expiry_idx ON bookings (offer_expires_at) WHERE status = 'offered';

ALTER TABLE sessions ADD COLUMN allocation TEXT NOT NULL DEFAULT 'first_come' CHECK (allocation IN ('first_come', 'lottery'));
ALTER TABLE sessions ADD COLUMN applications_close_at TIMESTAMP;
ALTER TABLE sessions ADD COLUMN draw_at TIMESTAMP;
ALTER TABLE sessions ADD COLUMN offer_hours INTEGER CHECK (offer_hours BETWEEN 1 AND 720);
ALTER TABLE sessions ADD COLUMN first_timers_first BOOLEAN NOT NULL DEFAULT FALSE;
-- Set once, by the draw that claimed the session (a second instance finds it set).
ALTER TABLE sessions ADD COLUMN drawn_at TIMESTAMP;
-- Applications waiting for the draw (like waitlist_count for the waitlist).
ALTER TABLE sessions ADD COLUMN applications_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_draw_due_idx ON sessions (draw_at) WHERE allocation = 'lottery' AND drawn_at IS NULL;

ALTER TABLE series ADD COLUMN allocation TEXT NOT NULL DEFAULT 'first_come' CHECK (allocation IN ('first_come', 'lottery'));
ALTER TABLE series ADD COLUMN applications_close_at TIMESTAMP;
ALTER TABLE series ADD COLUMN draw_at TIMESTAMP;
ALTER TABLE series ADD COLUMN offer_hours INTEGER CHECK (offer_hours BETWEEN 1 AND 720);
ALTER TABLE series ADD COLUMN first_timers_first BOOLEAN NOT NULL DEFAULT FALSE;

-- An organisation may put residents with recent no-shows after the others in a draw.
ALTER TABLE organisations ADD COLUMN lottery_no_shows_last BOOLEAN NOT NULL DEFAULT FALSE;

-- The record of a draw: its seed and rules, enough to draw it again.
CREATE TABLE session_draws (
    session_id          TEXT PRIMARY KEY NOT NULL REFERENCES sessions(id),
    organisation_id     TEXT NOT NULL REFERENCES organisations(id),
    seed                TEXT NOT NULL,
    algorithm           TEXT NOT NULL,
    capacity            INTEGER NOT NULL,
    seats_free          INTEGER NOT NULL,
    applicants          INTEGER NOT NULL,
    winners             INTEGER NOT NULL,
    first_timers_first  BOOLEAN NOT NULL,
    no_shows_last       BOOLEAN NOT NULL,
    no_show_count       INTEGER NOT NULL,
    no_show_months      INTEGER NOT NULL,
    drawn_by            TEXT REFERENCES staff_accounts(id),
    drawn_at            TIMESTAMP NOT NULL
);
-- Every application in drawn order, with the facts that placed it.
CREATE TABLE draw_entries (
    session_id       TEXT NOT NULL REFERENCES sessions(id),
    position         INTEGER NOT NULL,
    booking_id       TEXT NOT NULL REFERENCES bookings(id),
    resident_id      TEXT NOT NULL REFERENCES residents(id),
    first_timer      BOOLEAN NOT NULL,
    recent_no_shows  BOOLEAN NOT NULL,
    ticket           TEXT NOT NULL,
    outcome          TEXT NOT NULL CHECK (outcome IN ('won', 'waitlisted', 'not_drawn')),
    PRIMARY KEY (session_id, position)
);
CREATE INDEX draw_entries_booking_idx ON draw_entries (booking_id);
COMMIT;
PRAGMA foreign_keys = ON;
