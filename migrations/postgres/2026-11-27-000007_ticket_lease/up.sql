INSERT INTO job_leases (name, holder, lease_until) VALUES ('close_tickets', NULL, NULL);
