DELETE FROM job_leases WHERE name = 'close_tickets';
