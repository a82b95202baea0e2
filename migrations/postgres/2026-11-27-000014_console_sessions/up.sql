-- The staff console's browser sessions are auth sessions too (logout,
-- deactivation and role changes apply at once): the cookie's secret is
-- stored as a digest on the session row.
ALTER TABLE auth_sessions ADD COLUMN console_token_hash TEXT;
CREATE UNIQUE INDEX auth_sessions_console_idx ON auth_sessions (console_token_hash);
