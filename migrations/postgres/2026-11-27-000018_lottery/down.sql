DROP TABLE draw_entries;
DROP TABLE session_draws;
ALTER TABLE organisations DROP COLUMN lottery_no_shows_last;
ALTER TABLE series DROP COLUMN first_timers_first;
ALTER TABLE series DROP COLUMN offer_hours;
ALTER TABLE series DROP COLUMN draw_at;
ALTER TABLE series DROP COLUMN applications_close_at;
ALTER TABLE series DROP COLUMN allocation;
DROP INDEX sessions_draw_due_idx;
ALTER TABLE sessions DROP COLUMN applications_count;
ALTER TABLE sessions DROP COLUMN drawn_at;
ALTER TABLE sessions DROP COLUMN first_timers_first;
ALTER TABLE sessions DROP COLUMN offer_hours;
ALTER TABLE sessions DROP COLUMN draw_at;
ALTER TABLE sessions DROP COLUMN applications_close_at;
ALTER TABLE sessions DROP COLUMN allocation;
DROP INDEX bookings_offer_expiry_idx;
UPDATE bookings SET status = 'cancelled' WHERE status IN ('applied', 'offered');
ALTER TABLE bookings DROP COLUMN offer_expires_at;
ALTER TABLE bookings DROP COLUMN offered_at;
DROP INDEX bookings_one_active_idx;
CREATE UNIQUE INDEX bookings_one_active_idx ON bookings (session_id, resident_id)
    WHERE status IN ('confirmed', 'waitlisted');
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('confirmed', 'waitlisted', 'cancelled'));
