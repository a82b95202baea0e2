DROP TABLE resident_erasures;
ALTER TABLE organisations DROP COLUMN retention_months;
ALTER TABLE bookings DROP COLUMN age_band;
