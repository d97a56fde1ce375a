-- A counselor's caseload as two index range scans (issue 14). Read one
-- graduate at a time, case_activity costs a walk from its primary key's
-- root for every graduate listed — ~280 buffer visits for a counselor with
-- 100 graduates — and under concurrency those visits, not the rows, are
-- what the two cores spend their time on (pgbench, the caseload's join at
-- concurrency 16: 1,766 statements/s this way, 9,375/s with this index).
-- Here case_activity carries its graduate's counselor, and an index by
-- counselor holds what a caseload row shows of it, so that the counselor's
-- rows come from a few adjacent index pages (index-only), hashed against
-- the same counselor's rows of students_counselor_cover_idx.
--
-- The counselor is a copy of students.counselor_id. graduate writes it
-- with the row (graduate.Create); a trigger on students keeps it whenever
-- the counselor changes, by whatever statement (an update of the file, a
-- reassignment of many, an import), so the copy cannot drift. The index's
-- columns change with every contact, which already updates indexed columns
-- of case_activity (no HOT update): one more index entry per append.
ALTER TABLE case_activity ADD COLUMN counselor_id bigint;

UPDATE case_activity ca SET counselor_id = s.counselor_id
    FROM students s WHERE s.id = ca.student_id AND s.counselor_id IS NOT NULL;

CREATE FUNCTION students_case_counselor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_activity SET counselor_id = NEW.counselor_id WHERE student_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER students_case_counselor AFTER UPDATE OF counselor_id ON students
    FOR EACH ROW WHEN (OLD.counselor_id IS DISTINCT FROM NEW.counselor_id)
    EXECUTE FUNCTION students_case_counselor();

-- Built in the migration's transaction: ~2 s at the 1,000,000-graduate
-- province, during which case_activity's writes wait.
CREATE INDEX case_activity_counselor_idx ON case_activity (counselor_id)
    INCLUDE (student_id, next_followup_on, last_contact_at, overdue, escalation_level, categories, categories_valid_until);

-- The planner must know a counselor has ~100 rows here, not the default
-- 0.5% of the table, or it probes case_activity one graduate at a time.
ANALYZE case_activity;
