DROP TABLE programme_memberships;
DROP TABLE programme_viewers;
DROP TABLE programmes;
