DROP TABLE idempotency_keys;
DROP TABLE booking_events;
DROP TABLE bookings;
DROP TABLE residents;
ALTER TABLE sessions DROP COLUMN waitlist_seq;
