-- Automatic ticket assignment: volunteers' category skills, their weekly
-- duty roster, and when each last got a ticket (for round-robin).
CREATE TABLE volunteer_skills (
    account_id  TEXT NOT NULL REFERENCES staff_accounts(id),
    category    TEXT NOT NULL,
    PRIMARY KEY (account_id, category)
);

CREATE TABLE volunteer_duty (
    account_id  TEXT NOT NULL REFERENCES staff_accounts(id),
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    starts      TIME NOT NULL,
    ends        TIME NOT NULL,
    PRIMARY KEY (account_id, weekday)
);

CREATE TABLE volunteer_rotation (
    account_id        TEXT PRIMARY KEY NOT NULL REFERENCES staff_accounts(id),
    last_assigned_at  TIMESTAMP NOT NULL
);
