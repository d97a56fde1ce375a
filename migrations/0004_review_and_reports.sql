-- Province scale: the supervisor's ledger review reads a school's entries
-- newest first; reports aggregate destinations per school and department
-- and process measures over open cases, without reading whole files.

ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only;
ALTER TABLE ledger_entries ADD COLUMN school_id bigint REFERENCES schools (id);
UPDATE ledger_entries l SET school_id = s.school_id FROM students s WHERE s.id = l.student_id;
ALTER TABLE ledger_entries ALTER COLUMN school_id SET NOT NULL;
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only;

-- Review pages run newest first with a (recorded_at, student_id, seq) cursor.
CREATE INDEX ledger_entries_school_idx ON ledger_entries (school_id, recorded_at DESC, student_id DESC, seq DESC);
CREATE INDEX ledger_entries_recorded_idx ON ledger_entries (recorded_at DESC, student_id DESC, seq DESC);
DROP INDEX ledger_entries_author_idx;
CREATE INDEX ledger_entries_author_idx ON ledger_entries (author_id, recorded_at DESC, student_id DESC, seq DESC);

CREATE INDEX students_report_idx ON students (graduation_year, school_id, department_id, destination_code);
CREATE INDEX students_open_idx ON students (school_id, counselor_id) WHERE status IN ('open', 'active');
