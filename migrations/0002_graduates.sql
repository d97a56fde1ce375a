-- Graduate files (一人一档), hardship categories, plans (一人一策), the
-- hash-chained ledger (帮扶台账), destinations (毕业去向) and the audit log.

CREATE TABLE students (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id          bigint NOT NULL REFERENCES schools (id),
    department_id      bigint,
    student_number     text NOT NULL CONSTRAINT students_number_format CHECK (student_number ~ '^[A-Za-z0-9-]{1,32}$'),
    name               text NOT NULL CONSTRAINT students_name_length CHECK (char_length(name) BETWEEN 1 AND 50),
    -- 身份证号: AES-GCM sealed; HMAC for exact lookup; first 3 + last 4 for display.
    id_number_sealed   bytea NOT NULL,
    id_number_hash     bytea NOT NULL,
    id_number_masked   text NOT NULL,
    major              text NOT NULL DEFAULT '',
    education_level    text NOT NULL CONSTRAINT students_education_level_check
                       CHECK (education_level IN ('zhongzhi', 'zhuanke', 'benke', 'shuoshi', 'boshi')),
    graduation_year    integer NOT NULL CONSTRAINT students_graduation_year_check CHECK (graduation_year BETWEEN 2000 AND 2100),
    phone              text NOT NULL DEFAULT '',
    email              text NOT NULL DEFAULT '',
    intention_industry text NOT NULL DEFAULT '',
    intention_region   text NOT NULL DEFAULT '',
    intention_job_type text NOT NULL DEFAULT '',
    skills             text[] NOT NULL DEFAULT '{}',
    certificates       text[] NOT NULL DEFAULT '{}',
    -- Accommodations may reveal a disability: sealed like the ID number.
    accommodations_sealed bytea,
    counselor_id       bigint REFERENCES users (id),
    status             text NOT NULL DEFAULT 'open' CONSTRAINT students_status_check
                       CHECK (status IN ('open', 'active', 'placed', 'closed', 'transferred')),
    activated_at       timestamptz,
    consent            boolean NOT NULL DEFAULT false,
    consent_at         timestamptz,
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- Maintained by the ledger's append, so lists need not read the ledger.
    ledger_seq         integer NOT NULL DEFAULT 0,
    ledger_head        bytea NOT NULL DEFAULT '\x',
    contacts_count     integer NOT NULL DEFAULT 0,
    referrals_count    integer NOT NULL DEFAULT 0,
    last_contact_at    timestamptz,
    -- Maintained by the follow-up jobs.
    next_followup_on   date,
    overdue            boolean NOT NULL DEFAULT false,
    -- Maintained by plans and destinations.
    plan_revision      integer NOT NULL DEFAULT 0,
    destination_id     bigint,
    destination_code   text,
    CONSTRAINT students_school_number_key UNIQUE (school_id, student_number),
    CONSTRAINT students_department_fkey FOREIGN KEY (school_id, department_id) REFERENCES departments (school_id, id)
);
CREATE INDEX students_counselor_idx ON students (counselor_id, id);
CREATE INDEX students_school_idx ON students (school_id, id);
CREATE INDEX students_school_status_idx ON students (school_id, status, id);
CREATE INDEX students_overdue_idx ON students (counselor_id, id) WHERE overdue;
CREATE INDEX students_id_number_hash_idx ON students (id_number_hash);
CREATE INDEX students_number_idx ON students (student_number text_pattern_ops);
CREATE INDEX students_name_idx ON students (name text_pattern_ops);

ALTER TABLE users ADD CONSTRAINT users_student_fkey FOREIGN KEY (student_id) REFERENCES students (id);
ALTER TABLE users ADD CONSTRAINT users_student_key UNIQUE (student_id);

CREATE TABLE hardships (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id           bigint NOT NULL REFERENCES students (id),
    category             text NOT NULL CONSTRAINT hardships_category_check CHECK (category IN (
                             'poverty_alleviated', 'dibao', 'zero_employment', 'disabled',
                             'tekun', 'orphan', 'disabled_parent', 'other_certified')),
    evidence_type        text NOT NULL CONSTRAINT hardships_evidence_type_length CHECK (char_length(evidence_type) BETWEEN 1 AND 100),
    issuing_authority    text NOT NULL CONSTRAINT hardships_issuing_authority_length CHECK (char_length(issuing_authority) BETWEEN 1 AND 100),
    certificate_no_sealed bytea,
    valid_until          date,
    status               text NOT NULL DEFAULT 'unverified' CONSTRAINT hardships_status_check
                         CHECK (status IN ('unverified', 'verified', 'rejected')),
    verified_by          bigint REFERENCES users (id),
    verified_at          timestamptz,
    verification_note    text NOT NULL DEFAULT '',
    created_by           bigint NOT NULL REFERENCES users (id),
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hardships_student_idx ON hardships (student_id);
CREATE INDEX hardships_verified_idx ON hardships (category, student_id) WHERE status = 'verified';
CREATE INDEX hardships_valid_until_idx ON hardships (valid_until) WHERE status = 'verified';

CREATE TABLE plan_revisions (
    student_id       bigint NOT NULL REFERENCES students (id),
    revision         integer NOT NULL,
    goals            text[] NOT NULL,
    cadence_days     integer NOT NULL CONSTRAINT plan_revisions_cadence_check CHECK (cadence_days BETWEEN 1 AND 90),
    note             text NOT NULL DEFAULT '',
    author_id        bigint NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    acknowledged_by  bigint REFERENCES users (id),
    PRIMARY KEY (student_id, revision)
);

CREATE TABLE plan_measures (
    student_id   bigint NOT NULL,
    revision     integer NOT NULL,
    position     integer NOT NULL,
    kind         text NOT NULL CONSTRAINT plan_measures_kind_check CHECK (kind IN (
                     'career_guidance', 'job_referral', 'skills_training', 'hongzhi_training',
                     'psychological_support', 'job_seeking_subsidy', 'internship',
                     'grassroots_project', 'enlistment', 'further_study')),
    description  text NOT NULL,
    owner        text NOT NULL,
    due_on       date,
    status       text NOT NULL CONSTRAINT plan_measures_status_check CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    PRIMARY KEY (student_id, revision, position),
    FOREIGN KEY (student_id, revision) REFERENCES plan_revisions (student_id, revision)
);

CREATE TABLE ledger_entries (
    student_id        bigint NOT NULL REFERENCES students (id),
    seq               integer NOT NULL,
    kind              text NOT NULL CONSTRAINT ledger_entries_kind_check CHECK (kind IN ('contact', 'referral', 'note', 'outcome', 'correction')),
    channel           text NOT NULL DEFAULT '',
    occurred_at       timestamptz NOT NULL,
    summary           text NOT NULL,
    next_step         text NOT NULL DEFAULT '',
    next_followup_on  date,
    visibility        text NOT NULL CONSTRAINT ledger_entries_visibility_check CHECK (visibility IN ('internal', 'shared')),
    referral          jsonb,
    corrects_seq      integer,
    correction_reason text NOT NULL DEFAULT '',
    group_id          uuid,
    author_id         bigint NOT NULL REFERENCES users (id),
    recorded_at       timestamptz NOT NULL,
    prev_hash         bytea NOT NULL,
    hash              bytea NOT NULL,
    PRIMARY KEY (student_id, seq),
    FOREIGN KEY (student_id, corrects_seq) REFERENCES ledger_entries (student_id, seq)
);
CREATE INDEX ledger_entries_author_idx ON ledger_entries (author_id, recorded_at);

-- History is append-only: no code path, ours or an operator's, may rewrite it.
CREATE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();

CREATE TABLE destinations (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id     bigint NOT NULL REFERENCES students (id),
    code           text NOT NULL CONSTRAINT destinations_code_check CHECK (code IN (
                       '10', '11', '12', '27', '46', '50', '51', '75', '76', '80', '85', '70', '71', '72')),
    employer       text NOT NULL DEFAULT '',
    credit_code    text NOT NULL DEFAULT '',
    position       text NOT NULL DEFAULT '',
    region         text NOT NULL DEFAULT '',
    proof_kind     text NOT NULL DEFAULT '' CONSTRAINT destinations_proof_kind_check CHECK (proof_kind IN (
                       '', 'employment_agreement', 'labor_contract', 'employment_certificate', 'signed_statement',
                       'business_license', 'admission_notice', 'enlistment_notice', 'project_appointment', 'other')),
    proof_ref      text NOT NULL DEFAULT '',
    note           text NOT NULL DEFAULT '',
    status         text NOT NULL CONSTRAINT destinations_status_check CHECK (status IN ('reported', 'recorded', 'verified')),
    entered_by     bigint NOT NULL REFERENCES users (id),
    entered_role   text NOT NULL,
    entered_at     timestamptz NOT NULL,
    verified_by    bigint REFERENCES users (id),
    verified_at    timestamptz,
    superseded_at  timestamptz
);
CREATE INDEX destinations_student_idx ON destinations (student_id, id);
ALTER TABLE students ADD CONSTRAINT students_destination_fkey FOREIGN KEY (destination_id) REFERENCES destinations (id);

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    bigint REFERENCES users (id),
    actor_role  text NOT NULL,
    action      text NOT NULL,
    student_id  bigint REFERENCES students (id),
    school_id   bigint REFERENCES schools (id),
    fields      text[] NOT NULL DEFAULT '{}',
    reason      text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    detail      jsonb
);
CREATE INDEX audit_log_student_idx ON audit_log (student_id, id) WHERE student_id IS NOT NULL;
CREATE INDEX audit_log_school_idx ON audit_log (school_id, id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
