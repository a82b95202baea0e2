-- Opening hours of an organisation's desk per weekday (0 = Monday), for
-- service levels in business time. No rows: Monday–Friday 09:00–17:00.
CREATE TABLE opening_hours (
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    weekday          INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens            TIME NOT NULL,
    closes           TIME NOT NULL,
    PRIMARY KEY (organisation_id, weekday)
);
