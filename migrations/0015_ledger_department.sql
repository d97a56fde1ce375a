-- bangfu:no-transaction
-- The hot paths (issue 14): a department supervisor's ledger review walked
-- the school's entries in time order and kept the ~3% of its department,
-- reading ~2,000 heap rows per page. Entries now carry their graduate's
-- department, kept current when the graduate changes department
-- (ledger.MoveDepartment, in the transaction of the change), and the
-- review walks (school_id, department_id, recorded_at).
--
-- Run outside one transaction, statement by statement, so that the
-- backfill commits in slices of graduates and never holds the table; every
-- statement can run again after an interruption.

-- The department is not part of an entry's hashed content: an update that
-- changes nothing else is the one change an entry accepts.
CREATE OR REPLACE FUNCTION refuse_ledger_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    same ledger_entries;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        same := NEW;
        same.department_id := OLD.department_id;
        IF same IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS department_id bigint;

CREATE OR REPLACE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_rewrite();

-- Backfill in slices of 20,000 graduates, each committed.
DO $$
DECLARE
    lo  bigint := 0;
    top bigint;
BEGIN
    SELECT coalesce(max(id), 0) INTO top FROM students;
    WHILE lo < top LOOP
        UPDATE ledger_entries l SET department_id = s.department_id
            FROM students s
            WHERE s.id = l.student_id AND l.student_id > lo AND l.student_id <= lo + 20000
              AND s.department_id IS NOT NULL AND l.department_id IS DISTINCT FROM s.department_id;
        COMMIT;
        lo := lo + 20000;
    END LOOP;
END $$;

DROP INDEX CONCURRENTLY IF EXISTS ledger_entries_department_idx;
CREATE INDEX CONCURRENTLY ledger_entries_department_idx
    ON ledger_entries (school_id, department_id, recorded_at DESC, student_id DESC, seq DESC);

ANALYZE ledger_entries;
