-- Loaner devices, their reservations for sessions and their loans; fees,
-- payments and refunds with receipt numbers per organisation and fiscal year.

CREATE TABLE devices (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    asset_tag        TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('smartphone', 'tablet', 'other')),
    os               TEXT NOT NULL,
    os_version       TEXT,
    model            TEXT NOT NULL,
    home_venue_id    TEXT NOT NULL REFERENCES venues(id),
    status           TEXT NOT NULL CHECK (status IN ('available', 'loaned', 'maintenance', 'retired')),
    condition_notes  TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX devices_asset_tag_idx ON devices (organisation_id, asset_tag);
CREATE INDEX devices_venue_idx ON devices (home_venue_id, status);

CREATE TABLE device_events (
    id          TEXT PRIMARY KEY NOT NULL,
    device_id   TEXT NOT NULL REFERENCES devices(id),
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    actor_id    TEXT REFERENCES staff_accounts(id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX device_events_device_idx ON device_events (device_id, created_at);

-- A booking's claim on one device of the venue's pool for the session's
-- time (plus turnaround); 'waitlisted' waits for a device to free up.
CREATE TABLE loaner_reservations (
    booking_id   TEXT PRIMARY KEY NOT NULL REFERENCES bookings(id),
    venue_id     TEXT NOT NULL REFERENCES venues(id),
    starts_at    TIMESTAMP NOT NULL,
    ends_at      TIMESTAMP NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('reserved', 'waitlisted', 'out', 'returned', 'released')),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX loaner_reservations_venue_idx ON loaner_reservations (venue_id, status, starts_at);

CREATE TABLE loans (
    id                TEXT PRIMARY KEY NOT NULL,
    organisation_id   TEXT NOT NULL REFERENCES organisations(id),
    device_id         TEXT NOT NULL REFERENCES devices(id),
    booking_id        TEXT REFERENCES bookings(id),
    resident_id       TEXT NOT NULL REFERENCES residents(id),
    due_at            TIMESTAMP NOT NULL,
    lent_by           TEXT NOT NULL REFERENCES staff_accounts(id),
    lent_at           TIMESTAMP NOT NULL,
    returned_at       TIMESTAMP,
    returned_to       TEXT REFERENCES staff_accounts(id),
    return_condition  TEXT
);
CREATE UNIQUE INDEX loans_one_open_per_device_idx ON loans (device_id) WHERE returned_at IS NULL;
CREATE INDEX loans_org_idx ON loans (organisation_id, returned_at, due_at);

ALTER TABLE bookings ADD COLUMN fee_exemption_reason TEXT;

CREATE TABLE receipt_counters (
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    fiscal_year      INTEGER NOT NULL,
    last_number      INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, fiscal_year)
);

CREATE TABLE payments (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    booking_id       TEXT NOT NULL REFERENCES bookings(id),
    session_id       TEXT NOT NULL REFERENCES sessions(id),
    venue_id         TEXT NOT NULL REFERENCES venues(id),
    resident_id      TEXT NOT NULL REFERENCES residents(id),
    kind             TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    amount_yen       INTEGER NOT NULL CHECK (amount_yen > 0),
    method           TEXT NOT NULL CHECK (method IN ('cash')),
    receipt_number   TEXT NOT NULL,
    refund_of        TEXT REFERENCES payments(id),
    reason           TEXT,
    received_by      TEXT NOT NULL REFERENCES staff_accounts(id),
    local_date       DATE NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX payments_receipt_idx ON payments (organisation_id, receipt_number);
CREATE INDEX payments_booking_idx ON payments (booking_id);
CREATE INDEX payments_venue_day_idx ON payments (venue_id, local_date);
