ALTER TABLE bookings DROP COLUMN enrolment_id;
DROP TABLE enrolments;
