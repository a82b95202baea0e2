ALTER TABLE tickets ADD COLUMN merged_into TEXT REFERENCES tickets(id);
