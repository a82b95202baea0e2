PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE draw_entries;
DROP TABLE session_draws;
ALTER TABLE organisations DROP COLUMN lottery_no_shows_last;
ALTER TABLE series DROP COLUMN first_timers_first;
ALTER TABLE series DROP COLUMN offer_hours;
ALTER TABLE series DROP COLUMN draw_at;
ALTER TABLE series DROP COLUMN applications_close_at;
ALTER TABLE series DROP COLUMN allocation;
DROP INDEX sessions_draw_due_idx;
ALTER TABLE sessions DROP COLUMN applications_count;
ALTER TABLE sessions DROP COLUMN drawn_at;
ALTER TABLE sessions DROP COLUMN first_timers_first;
ALTER TABLE sessions DROP COLUMN offer_hours;
ALTER TABLE sessions DROP COLUMN draw_at;
ALTER TABLE sessions DROP COLUMN applications_close_at;
ALTER TABLE sessions DROP COLUMN allocation;
UPDATE bookings SET status = 'cancelled' WHERE status IN ('applied', 'offered');
CREATE TABLE bookings_new (
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
    updated_at              TIMESTAMP NOT NULL,
    enrolment_id            TEXT REFERENCES enrolments(id),
    fee_exemption_reason    TEXT,
    class_fee_yen           INTEGER NOT NULL DEFAULT 0,
    loaner_fee_yen          INTEGER NOT NULL DEFAULT 0,
    eligibility_override_reason TEXT,
    age_band                TEXT
);
INSERT INTO bookings_new (id, organisation_id, session_id, resident_id, status, channel, reference, needs_loaner, notes, waitlist_seq, over_capacity, fee_due_yen, window_override_reason, entered_by, cancel_reason, cancelled_by, cancelled_at, promoted_at, attendance, attendance_marked_by, attendance_marked_at, created_at, updated_at, enrolment_id, fee_exemption_reason, class_fee_yen, loaner_fee_yen, eligibility_override_reason, age_band)
    SELECT id, organisation_id, session_id, resident_id, status, channel, reference, needs_loaner, notes, waitlist_seq, over_capacity, fee_due_yen, window_override_reason, entered_by, cancel_reason, cancelled_by, cancelled_at, promoted_at, attendance, attendance_marked_by, attendance_marked_at, created_at, updated_at, enrolment_id, fee_exemption_reason, class_fee_yen, loaner_fee_yen, eligibility_override_reason, age_band FROM bookings;
DROP TABLE bookings;
ALTER TABLE bookings_new RENAME TO bookings;
CREATE UNIQUE INDEX bookings_reference_idx ON bookings (organisation_id, reference);
CREATE UNIQUE INDEX bookings_one_active_idx ON bookings (session_id, resident_id) WHERE status IN ('confirmed', 'waitlisted');
CREATE INDEX bookings_session_idx ON bookings (session_id, status);
CREATE INDEX bookings_resident_idx ON bookings (resident_id);
COMMIT;
PRAGMA foreign_keys = ON;
