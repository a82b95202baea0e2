DROP INDEX auth_sessions_console_idx;
ALTER TABLE auth_sessions DROP COLUMN console_token_hash;
