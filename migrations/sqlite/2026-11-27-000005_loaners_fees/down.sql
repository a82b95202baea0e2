DROP TABLE payments;
DROP TABLE receipt_counters;
ALTER TABLE bookings DROP COLUMN fee_exemption_reason;
DROP TABLE loans;
DROP TABLE loaner_reservations;
DROP TABLE device_events;
DROP TABLE devices;
