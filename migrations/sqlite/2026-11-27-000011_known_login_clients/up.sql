-- Client addresses an account has logged in from: failures of strangers
-- elsewhere never block a login from one of them. The key is a digest of
-- email and address, so the table holds no address in clear.
CREATE TABLE known_login_clients (
    client_key    TEXT PRIMARY KEY NOT NULL,
    last_login_at TIMESTAMP NOT NULL
);
