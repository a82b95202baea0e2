DROP TABLE ticket_messages;
DROP TABLE ticket_events;
DROP TABLE ticket_queue_counters;
DROP TABLE tickets;
DROP TABLE ticket_categories;
