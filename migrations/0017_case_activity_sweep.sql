-- The hot paths (issue 14): the stall sweep decides from the narrow
-- case_activity rows alone which cases to flag and which flags to clear,
-- instead of reading the wide students row of every case in the caseload
-- (72,000 of them at province scale, twice). Kept by internal/graduate with
-- the status copy (syncCase): the graduate's school (which never changes),
-- graduation year, and whether the case has no placing destination (none
-- recorded, or 70, 71, 72 — escalation's unplacedCase without the status).
ALTER TABLE case_activity
    ADD COLUMN school_id bigint,
    ADD COLUMN graduation_year integer,
    ADD COLUMN unplaced boolean NOT NULL DEFAULT true;

UPDATE case_activity ca SET school_id = s.school_id, graduation_year = s.graduation_year,
        unplaced = (s.destination_code IS NULL OR s.destination_code IN ('70', '71', '72'))
    FROM students s WHERE s.id = ca.student_id;

ALTER TABLE case_activity ALTER COLUMN school_id SET NOT NULL, ALTER COLUMN graduation_year SET NOT NULL;

-- Cases in the caseload still without a placing destination, by year.
CREATE INDEX case_activity_unplaced_idx ON case_activity (graduation_year) INCLUDE (student_id, school_id) WHERE followed AND unplaced;

ANALYZE case_activity;
