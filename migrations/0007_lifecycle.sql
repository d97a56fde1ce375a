-- A case's whole life: after graduation, the hand-over to the public
-- employment service (离校未就业实名衔接), and the sweep's flags.

-- The 31 July flag reads every graduate in the caseload without a placing
-- destination (none, or 70, 71, 72), not only those of 70.
DROP INDEX students_unplaced_idx;
CREATE INDEX students_unplaced_idx ON students (graduation_year)
    WHERE status IN ('open', 'active') AND (destination_code IS NULL OR destination_code IN ('70', '71', '72'));

-- A graduate handed over to the public employment service leaves the
-- active caseload (status handed_over) and keeps a record of the
-- hand-over. The new status check is wider than the old one, which every
-- row satisfied.
ALTER TABLE students DROP CONSTRAINT students_status_check;
ALTER TABLE students ADD CONSTRAINT students_status_check
    CHECK (status IN ('open', 'active', 'placed', 'closed', 'transferred', 'handed_over')) NOT VALID;
ALTER TABLE students VALIDATE CONSTRAINT students_status_check;
-- When the graduate was (last) handed over; reports count it without a join.
ALTER TABLE students ADD COLUMN handed_over_at timestamptz;

CREATE TABLE handovers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id        bigint NOT NULL REFERENCES students (id),
    school_id         bigint NOT NULL REFERENCES schools (id),
    -- The receiving public employment service and where it is.
    agency            text NOT NULL CONSTRAINT handovers_agency_length CHECK (char_length(agency) BETWEEN 1 AND 100),
    agency_region     text NOT NULL DEFAULT '',
    handed_over_on    date NOT NULL,
    handed_over_by    bigint NOT NULL REFERENCES users (id),
    handed_over_role  text NOT NULL,
    -- Which of the graduate's data were passed on (names of fields, never
    -- the data), and the graduate's consent as it stood on the file.
    shared_fields     text[] NOT NULL,
    consent_at        timestamptz NOT NULL,
    note              text NOT NULL DEFAULT '',
    -- The ledger entry that records the hand-over.
    ledger_seq        integer NOT NULL,
    recorded_at       timestamptz NOT NULL,
    -- The agency's acknowledgement, when it comes.
    acknowledged_on         date,
    acknowledged_by         text NOT NULL DEFAULT '',
    acknowledgement_ref     text NOT NULL DEFAULT '',
    acknowledgement_by_user bigint REFERENCES users (id),
    acknowledgement_at      timestamptz,
    FOREIGN KEY (student_id, ledger_seq) REFERENCES ledger_entries (student_id, seq)
);
CREATE INDEX handovers_student_idx ON handovers (student_id, id);

-- A notification about an escalation says, in the inbox, when it was
-- resolved; resolving finds the notifications by their event key.
ALTER TABLE notifications ADD COLUMN resolved_at timestamptz;
CREATE INDEX notifications_escalation_key_idx ON notifications (dedupe_key) WHERE kind = 'escalation';
