-- Residents' rights (APPI): an erased person keeps only anonymous facts.
-- A booking keeps the age band its resident had on the session's date, so
-- reports of past periods do not change when the birth year is erased.
ALTER TABLE bookings ADD COLUMN age_band TEXT;
-- Residents without activity for this many months are erased by a job;
-- NULL: never.
ALTER TABLE organisations ADD COLUMN retention_months INTEGER;
CREATE TABLE resident_erasures (
    resident_id      TEXT PRIMARY KEY NOT NULL REFERENCES residents(id),
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    reason           TEXT NOT NULL,
    -- NULL: the retention job.
    erased_by        TEXT REFERENCES staff_accounts(id),
    erased_at        TIMESTAMP NOT NULL
);
CREATE INDEX resident_erasures_organisation ON resident_erasures (organisation_id);
