-- A department supervisor's escalation list as one ordered index walk
-- (issue 14). Their scope was an array of the department's ~800
-- graduates, each probed in escalations_unresolved_idx: 2,791 buffer
-- visits for a page of 50 at the bench province, against 236 for a
-- school-wide supervisor's page, which walks the school's index in order.
-- Here an escalation carries its graduate's department, as ledger entries
-- do (migration 0015), with an index in the list's order.
--
-- The department is a copy of students.department_id, and the database
-- keeps it: an escalation takes its graduate's department when it is
-- raised (unless the writer gives one: the bench's loader does), and a
-- trigger on students moves a graduate's escalations when the graduate
-- changes department, by whatever statement.
ALTER TABLE escalations ADD COLUMN department_id bigint;

UPDATE escalations e SET department_id = s.department_id
    FROM students s WHERE s.id = e.student_id AND s.department_id IS NOT NULL;

CREATE FUNCTION escalations_department() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.department_id IS NULL THEN
        NEW.department_id := (SELECT department_id FROM students WHERE id = NEW.student_id);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER escalations_department BEFORE INSERT ON escalations
    FOR EACH ROW EXECUTE FUNCTION escalations_department();

CREATE FUNCTION students_escalations_department() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE escalations SET department_id = NEW.department_id WHERE student_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER students_escalations_department AFTER UPDATE OF department_id ON students
    FOR EACH ROW WHEN (OLD.department_id IS DISTINCT FROM NEW.department_id)
    EXECUTE FUNCTION students_escalations_department();

-- Built in the migration's transaction: escalations are ~100,000 rows at
-- the bench province (well under a second).
CREATE INDEX escalations_department_idx ON escalations (school_id, department_id, status, id);

ANALYZE escalations;
