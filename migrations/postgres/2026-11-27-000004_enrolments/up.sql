-- Course enrolments: one resident in every remaining session of a series,
-- taken together; each session still has its own booking.
CREATE TABLE enrolments (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    series_id        TEXT NOT NULL REFERENCES series(id),
    resident_id      TEXT NOT NULL REFERENCES residents(id),
    status           TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
    entered_by       TEXT NOT NULL REFERENCES staff_accounts(id),
    cancel_reason    TEXT,
    created_at       TIMESTAMP NOT NULL,
    cancelled_at     TIMESTAMP
);
CREATE INDEX enrolments_series_idx ON enrolments (series_id);

ALTER TABLE bookings ADD COLUMN enrolment_id TEXT REFERENCES enrolments(id);
