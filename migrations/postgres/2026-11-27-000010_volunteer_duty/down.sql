DROP TABLE volunteer_rotation;
DROP TABLE volunteer_duty;
DROP TABLE volunteer_skills;
