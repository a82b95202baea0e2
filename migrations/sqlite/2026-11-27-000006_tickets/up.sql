-- Consultation tickets of the ICT help centre: categories (shared list plus
-- each organisation's own), tickets with walk-in queue numbers, their
-- timeline, and replies waiting to be mailed.

CREATE TABLE ticket_categories (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT REFERENCES organisations(id),
    code             TEXT NOT NULL,
    label            TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ticket_categories_org_code_idx ON ticket_categories (organisation_id, code);
INSERT INTO ticket_categories (id, organisation_id, code, label, created_at) VALUES
 ('00000000-0000-7000-8000-000000000101', NULL, 'pc', 'パソコン', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000102', NULL, 'tablet', 'タブレット', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000103', NULL, 'smartphone', 'スマートフォン', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000104', NULL, 'office_software', 'オフィスソフト', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000105', NULL, 'photos_printing', '写真・印刷', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000106', NULL, 'internet_email', 'インターネット・メール', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000107', NULL, 'online_government', 'マイナンバーカード・マイナポータル・e-Tax', '2026-11-27 00:00:00'),
 ('00000000-0000-7000-8000-000000000108', NULL, 'other', 'その他', '2026-11-27 00:00:00');

CREATE TABLE tickets (
    id                 TEXT PRIMARY KEY NOT NULL,
    organisation_id    TEXT NOT NULL REFERENCES organisations(id),
    channel            TEXT NOT NULL CHECK (channel IN ('face_to_face', 'phone', 'email', 'fax', 'web')),
    status             TEXT NOT NULL CHECK (status IN ('new', 'triaged', 'assigned', 'in_progress', 'waiting_on_resident', 'resolved', 'closed', 'cancelled')),
    priority           TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    category           TEXT NOT NULL,
    subject            TEXT NOT NULL,
    description        TEXT,
    device             TEXT,
    os                 TEXT,
    resident_id        TEXT REFERENCES residents(id),
    booking_id         TEXT REFERENCES bookings(id),
    contact_name       TEXT,
    contact_phone      TEXT,
    contact_email      TEXT,
    venue_id           TEXT REFERENCES venues(id),
    queue_date         DATE,
    queue_number       INTEGER,
    called_at          TIMESTAMP,
    assignee_id        TEXT REFERENCES staff_accounts(id),
    taken_by           TEXT NOT NULL REFERENCES staff_accounts(id),
    first_response_at  TIMESTAMP,
    resolved_at        TIMESTAMP,
    closed_at          TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX tickets_org_status_idx ON tickets (organisation_id, status, created_at);
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id, status);
CREATE UNIQUE INDEX tickets_queue_idx ON tickets (venue_id, queue_date, queue_number);

CREATE TABLE ticket_queue_counters (
    venue_id     TEXT NOT NULL REFERENCES venues(id),
    local_date   DATE NOT NULL,
    last_number  INTEGER NOT NULL,
    PRIMARY KEY (venue_id, local_date)
);

CREATE TABLE ticket_events (
    id           TEXT PRIMARY KEY NOT NULL,
    ticket_id    TEXT NOT NULL REFERENCES tickets(id),
    kind         TEXT NOT NULL CHECK (kind IN ('created', 'status', 'assigned', 'note', 'reply')),
    from_status  TEXT,
    to_status    TEXT,
    body         TEXT,
    actor_id     TEXT REFERENCES staff_accounts(id),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, id);

CREATE TABLE ticket_messages (
    id          TEXT PRIMARY KEY NOT NULL,
    ticket_id   TEXT NOT NULL REFERENCES tickets(id),
    to_email    TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    sent_at     TIMESTAMP
);
