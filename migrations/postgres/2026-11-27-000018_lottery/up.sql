-- Lottery (applications, a recorded draw) and held offers (issue 16).

ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('applied', 'confirmed', 'offered', 'waitlisted', 'cancelled'));
DROP INDEX bookings_one_active_idx;
CREATE UNIQUE INDEX bookings_one_active_idx ON bookings (session_id, resident_id)
    WHERE status IN ('applied', 'confirmed', 'offered', 'waitlisted');
ALTER TABLE bookings ADD COLUMN offered_at TIMESTAMP;
ALTER TABLE bookings ADD COLUMN offer_expires_at TIMESTAMP;
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
