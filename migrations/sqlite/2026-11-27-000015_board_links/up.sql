-- The waiting-room board of a venue opens by a secret link (no staff login
-- on a shared screen); rotating it replaces the secret. Only a digest of the
-- secret is kept.
CREATE TABLE board_links (
    venue_id         TEXT PRIMARY KEY NOT NULL REFERENCES venues(id),
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    token_hash       TEXT NOT NULL UNIQUE,
    created_at       TIMESTAMP NOT NULL
);
