-- What the first province-scale benchmark showed (docs/performance.md).

-- A ledger append updates the graduate's row twice: its head and counts,
-- then its follow-up state. Neither touches an indexed column once the
-- stall index is gone (the sweep reads open cases through
-- students_open_idx instead), so with free space on the page both are HOT
-- updates that write no index entries.
DROP INDEX students_stall_idx;
ALTER TABLE students SET (fillfactor = 90);

-- Escalation lists walk a school's (or the province's) escalations of one
-- status newest first; the report counts open ones per level.
DROP INDEX escalations_open_idx;
DROP INDEX escalations_level_idx;
CREATE INDEX escalations_school_idx ON escalations (school_id, status, id);
CREATE INDEX escalations_status_idx ON escalations (status, id) INCLUDE (level);

-- A correction is found from the entry it corrects.
CREATE INDEX ledger_entries_corrects_idx ON ledger_entries (student_id, corrects_seq) WHERE corrects_seq IS NOT NULL;

-- The sweep's measure_overdue flag reads only unfinished measures that are due.
CREATE INDEX plan_measures_due_idx ON plan_measures (due_on) WHERE status IN ('planned', 'in_progress');

-- The sweep's referrals_short flag reads active cases by when they became active.
CREATE INDEX students_active_idx ON students (activated_at) WHERE status = 'active';

-- A department's graduates, for department supervisors' scopes.
CREATE INDEX students_department_idx ON students (school_id, department_id, id);
