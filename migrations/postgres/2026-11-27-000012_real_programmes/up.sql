-- What real programmes needed (issue #11).

-- A booking's fee in its two parts, priced when it was made: the class fee
-- and the loaner fee. `fee_due_yen` is what is due now: the class fee, plus
-- the loaner fee only while a device is reserved or lent for the booking.
ALTER TABLE bookings ADD COLUMN class_fee_yen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN loaner_fee_yen INTEGER NOT NULL DEFAULT 0;
-- Booked although the course's eligibility said no, and why.
ALTER TABLE bookings ADD COLUMN eligibility_override_reason TEXT;
UPDATE bookings SET
    class_fee_yen = CASE WHEN fee_exemption_reason IS NOT NULL THEN 0
        ELSE (SELECT s.fee_yen FROM sessions s WHERE s.id = bookings.session_id) END,
    loaner_fee_yen = CASE WHEN fee_exemption_reason IS NOT NULL THEN 0
        ELSE (SELECT s.loaner_fee_yen FROM sessions s WHERE s.id = bookings.session_id) END;
UPDATE bookings SET fee_due_yen = class_fee_yen + CASE WHEN EXISTS (
        SELECT 1 FROM loaner_reservations r
        WHERE r.booking_id = bookings.id AND r.status IN ('reserved', 'out', 'returned')
    ) THEN loaner_fee_yen ELSE 0 END;

-- An enrolment in a whole course (all its series, e.g. 前期 and 後期): one
-- series enrolment per series, taken and withdrawn together.
CREATE TABLE course_enrolments (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    course_id        TEXT NOT NULL REFERENCES courses(id),
    resident_id      TEXT NOT NULL REFERENCES residents(id),
    status           TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
    channel          TEXT NOT NULL,
    needs_loaner     BOOLEAN NOT NULL DEFAULT FALSE,
    if_no_loaner     TEXT,
    entered_by       TEXT NOT NULL REFERENCES staff_accounts(id),
    cancel_reason    TEXT,
    created_at       TIMESTAMP NOT NULL,
    cancelled_at     TIMESTAMP
);
CREATE INDEX course_enrolments_course_idx ON course_enrolments (course_id);

-- An enrolment is a promise for the whole series: sessions stored later are
-- booked with the same channel and loaner wish.
ALTER TABLE enrolments ADD COLUMN channel TEXT NOT NULL DEFAULT 'phone';
ALTER TABLE enrolments ADD COLUMN needs_loaner BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE enrolments ADD COLUMN if_no_loaner TEXT;
ALTER TABLE enrolments ADD COLUMN course_enrolment_id TEXT REFERENCES course_enrolments(id);
UPDATE enrolments SET channel = COALESCE((SELECT b.channel FROM bookings b
    WHERE b.enrolment_id = enrolments.id ORDER BY b.created_at LIMIT 1), 'phone');

-- Sessions stored after an enrolment that could not seat the enrolled
-- resident: the coordinators' list until retried or dismissed.
CREATE TABLE enrolment_conflicts (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    enrolment_id     TEXT NOT NULL REFERENCES enrolments(id),
    session_id       TEXT NOT NULL REFERENCES sessions(id),
    code             TEXT NOT NULL,
    detail           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'dismissed')),
    created_at       TIMESTAMP NOT NULL,
    closed_at        TIMESTAMP,
    closed_by        TEXT REFERENCES staff_accounts(id),
    close_note       TEXT
);
CREATE INDEX enrolment_conflicts_org_idx ON enrolment_conflicts (organisation_id, status);

-- Who may join a course: age on the session date and districts (one per
-- line). NULL: no rule.
ALTER TABLE courses ADD COLUMN min_age INTEGER;
ALTER TABLE courses ADD COLUMN max_age INTEGER;
ALTER TABLE courses ADD COLUMN districts TEXT;

-- A venue's own weekly opening hours (0 = Monday). No rows: the
-- organisation's hours.
CREATE TABLE venue_opening_hours (
    venue_id   TEXT NOT NULL REFERENCES venues(id),
    weekday    INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens      TIME NOT NULL,
    closes     TIME NOT NULL,
    PRIMARY KEY (venue_id, weekday)
);
-- A closure of one venue only (NULL: the whole organisation).
ALTER TABLE closures ADD COLUMN venue_id TEXT REFERENCES venues(id);

-- When a question reached the desk (a call an hour ago, a FAX overnight);
-- service levels and statistics count from it.
ALTER TABLE tickets ADD COLUMN received_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE tickets SET received_at = created_at;
CREATE INDEX tickets_received_idx ON tickets (organisation_id, received_at);
