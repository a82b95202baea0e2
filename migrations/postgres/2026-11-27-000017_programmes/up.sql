-- A programme (a prefecture's, the national one) sees the roll-up of its
-- member organisations' reports, never a person. It is run by an owner
-- organisation (the programme office); its viewers are accounts of that
-- organisation granted access; members join and leave by their own admin.
CREATE TABLE programmes (
    id                     TEXT PRIMARY KEY NOT NULL,
    owner_organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    name                   TEXT NOT NULL,
    -- Person counts below this are shown as a range.
    min_cell_size          INTEGER NOT NULL,
    created_at             TIMESTAMP NOT NULL
);
CREATE TABLE programme_viewers (
    programme_id  TEXT NOT NULL REFERENCES programmes(id),
    account_id    TEXT NOT NULL REFERENCES staff_accounts(id),
    granted_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (programme_id, account_id)
);
CREATE TABLE programme_memberships (
    programme_id     TEXT NOT NULL REFERENCES programmes(id),
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    granted_by       TEXT NOT NULL REFERENCES staff_accounts(id),
    granted_at       TIMESTAMP NOT NULL,
    withdrawn_at     TIMESTAMP,
    PRIMARY KEY (programme_id, organisation_id)
);
