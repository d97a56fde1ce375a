-- A case's whole life: after graduation, the hand-over to the public
-- employment service (离校未就业实名衔接), and the sweep's flags.

-- The 31 July flag reads every graduate in the caseload without a placing
-- destination (none, or 70, 71, 72), not only those of 70.
DROP INDEX students_unplaced_idx;
CREATE INDEX students_unplaced_idx ON students (graduation_year)
    WHERE status IN ('open', 'active') AND (destination_code IS NULL OR destination_code IN ('70', '71', '72'));
