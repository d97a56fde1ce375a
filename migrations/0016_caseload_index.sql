-- bangfu:no-transaction
-- The hot paths (issue 14): the caseload (GET /students, in urgency order
-- by default) reads a counselor's or a department's graduates — ~130 and
-- ~800 — and needs only a few narrow columns of each; fetched from the
-- wide students rows they cost one heap page per graduate. The same keys as
-- the indexes they replace, carrying those columns, make it an index-only
-- scan (students is no longer updated by ledger appends, so its pages stay
-- all-visible). Every included column is indexed already, so no update
-- that was heap-only stops being so.
DROP INDEX CONCURRENTLY IF EXISTS students_counselor_cover_idx;
CREATE INDEX CONCURRENTLY students_counselor_cover_idx ON students (counselor_id, id)
    INCLUDE (student_number, name, department_id, status, graduation_year);
DROP INDEX CONCURRENTLY IF EXISTS students_counselor_idx;

DROP INDEX CONCURRENTLY IF EXISTS students_department_cover_idx;
CREATE INDEX CONCURRENTLY students_department_cover_idx ON students (school_id, department_id, id)
    INCLUDE (student_number, name, counselor_id, status, graduation_year);
DROP INDEX CONCURRENTLY IF EXISTS students_department_idx;
