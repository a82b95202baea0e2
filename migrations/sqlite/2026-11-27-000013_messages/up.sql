-- Messages that reach residents (issue #12): the mail outbox, written in
-- the transaction of the change that causes it, and the staff's call list
-- for residents who get calls instead of mail.
CREATE TABLE outbox_messages (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    kind             TEXT NOT NULL,
    resident_id      TEXT REFERENCES residents(id),
    booking_id       TEXT REFERENCES bookings(id),
    ticket_id        TEXT REFERENCES tickets(id),
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    -- Stable across retries: a resend after a crash is recognisable.
    message_id       TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP
);
CREATE INDEX outbox_messages_status_idx ON outbox_messages (status, created_at);
CREATE INDEX outbox_messages_org_idx ON outbox_messages (organisation_id, status);

CREATE TABLE call_list_items (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    resident_id      TEXT NOT NULL REFERENCES residents(id),
    venue_id         TEXT REFERENCES venues(id),
    reason           TEXT NOT NULL,
    booking_id       TEXT REFERENCES bookings(id),
    ticket_id        TEXT REFERENCES tickets(id),
    script           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'done', 'given_up')),
    tries            INTEGER NOT NULL DEFAULT 0,
    due_on           DATE NOT NULL,
    last_outcome     TEXT,
    last_note        TEXT,
    created_at       TIMESTAMP NOT NULL,
    closed_at        TIMESTAMP
);
CREATE INDEX call_list_items_org_idx ON call_list_items (organisation_id, status, due_on);

CREATE TABLE call_outcomes (
    id           TEXT PRIMARY KEY NOT NULL,
    call_id      TEXT NOT NULL REFERENCES call_list_items(id),
    outcome      TEXT NOT NULL,
    note         TEXT,
    recorded_by  TEXT NOT NULL REFERENCES staff_accounts(id),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX call_outcomes_call_idx ON call_outcomes (call_id);

-- One reminder per booking and rule, whatever happens to the session.
CREATE TABLE reminders_sent (
    booking_id  TEXT NOT NULL REFERENCES bookings(id),
    rule        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (booking_id, rule)
);

-- What a letter is signed with, and when reminders go out (comma-separated
-- rules: `24h` = 24 hours before, `1d@10:00` = the day before at 10:00).
ALTER TABLE organisations ADD COLUMN contact_phone TEXT;
ALTER TABLE organisations ADD COLUMN mail_signature TEXT;
ALTER TABLE organisations ADD COLUMN reminder_rules TEXT NOT NULL DEFAULT '1d@10:00';

-- The venue a staff member works at (volunteers see that venue's calls).
ALTER TABLE staff_accounts ADD COLUMN venue_id TEXT REFERENCES venues(id);
