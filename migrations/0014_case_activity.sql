-- The hot paths (issue 14): what a ledger append and the follow-up jobs
-- change on a case moves out of the wide students row (14 indexes, ~850
-- bytes) into a narrow row of its own, so that an append updates one
-- narrow row once instead of the wide row twice, and the stall sweep finds
-- quiet cases through an index that no append of the students row pays for.
-- Written by internal/graduate, like students.
--
-- The same columns of students (ledger_seq … overdue, followup_job_id,
-- followup_scheduled_at) are no longer written after this migration; they
-- stay, frozen, until a later migration drops them.
CREATE TABLE case_activity (
    student_id            bigint PRIMARY KEY REFERENCES students (id),
    -- The ledger's head, and the counts lists show.
    ledger_seq            integer NOT NULL DEFAULT 0,
    ledger_head           bytea NOT NULL DEFAULT '\x',
    contacts_count        integer NOT NULL DEFAULT 0,
    referrals_count       integer NOT NULL DEFAULT 0,
    last_contact_at       timestamptz,
    -- The live follow-up.
    followup_job_id       bigint,
    followup_scheduled_at timestamptz,
    next_followup_on      date,
    overdue               boolean NOT NULL DEFAULT false,
    -- For the stall sweep: whether the case is in the caseload (status
    -- open or active) and since when it is quiet, coalesce(last_contact_at,
    -- activated_at, created_at) — the moment the sweep's episodes name.
    followed              boolean NOT NULL,
    quiet_since           timestamptz NOT NULL,
    -- Moves with every change of the above that a file shows; a file's
    -- version (its ETag) is students.version + this.
    version               integer NOT NULL DEFAULT 0
) WITH (fillfactor = 80);

INSERT INTO case_activity (student_id, ledger_seq, ledger_head, contacts_count, referrals_count, last_contact_at,
        followup_job_id, followup_scheduled_at, next_followup_on, overdue, followed, quiet_since)
    SELECT id, ledger_seq, ledger_head, contacts_count, referrals_count, last_contact_at,
        followup_job_id, followup_scheduled_at, next_followup_on, overdue, status IN ('open', 'active'),
        coalesce(last_contact_at, activated_at, created_at)
    FROM students;

-- The stall sweep reads the cases in the caseload that have been quiet
-- longest; a contact moves the row within this small index.
CREATE INDEX case_activity_quiet_idx ON case_activity (quiet_since) WHERE followed;

-- The caseload's urgency needs each graduate's highest unresolved
-- escalation level: one index-only probe per graduate.
CREATE INDEX escalations_unresolved_idx ON escalations (student_id) INCLUDE (level, kind) WHERE status <> 'resolved';

ANALYZE case_activity;
