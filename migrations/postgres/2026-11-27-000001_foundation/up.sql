-- Foundation: organisations, staff accounts, auth sessions, login throttle, audit log.
-- Ids are UUIDs in canonical lowercase text (the same column types as the SQLite schema, so one diesel schema serves both); instants are UTC.
CREATE TABLE organisations (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    timezone    TEXT NOT NULL DEFAULT 'Asia/Tokyo',
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE staff_accounts (
    id                    TEXT PRIMARY KEY NOT NULL,
    organisation_id       TEXT NOT NULL REFERENCES organisations(id),
    email                 TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    role                  TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'instructor', 'volunteer')),
    affiliation           TEXT,
    password_hash         TEXT NOT NULL,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    must_change_password  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE INDEX staff_accounts_org_idx ON staff_accounts (organisation_id, id);

CREATE TABLE auth_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES staff_accounts(id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
CREATE INDEX auth_sessions_account_idx ON auth_sessions (account_id);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL REFERENCES auth_sessions(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    spent_at    TIMESTAMP
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE login_failures (
    id         TEXT PRIMARY KEY NOT NULL,
    throttle_key TEXT NOT NULL,
    failed_at  TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key_idx ON login_failures (throttle_key, failed_at);

CREATE TABLE audit_log (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    actor_id         TEXT REFERENCES staff_accounts(id),
    action           TEXT NOT NULL,
    entity           TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    summary          TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_org_idx ON audit_log (organisation_id, id);
CREATE INDEX audit_log_entity_idx ON audit_log (organisation_id, entity, entity_id);
