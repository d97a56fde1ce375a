-- What the background jobs keep: follow-up scheduling state, escalations,
-- notifications and the rule settings.

ALTER TABLE students
    ADD COLUMN followup_job_id       bigint,
    ADD COLUMN followup_scheduled_at timestamptz;

-- The stall sweep reads open cases by how long they have been quiet.
CREATE INDEX students_stall_idx ON students ((coalesce(last_contact_at, activated_at, created_at)))
    WHERE status IN ('open', 'active');
CREATE INDEX students_unplaced_idx ON students (graduation_year) WHERE destination_code = '70';

CREATE TABLE escalations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id       bigint NOT NULL REFERENCES students (id),
    school_id        bigint NOT NULL REFERENCES schools (id),
    kind             text NOT NULL CONSTRAINT escalations_kind_check CHECK (kind IN (
                         'no_contact', 'measure_overdue', 'referrals_short', 'unplaced_after_july')),
    level            integer NOT NULL CONSTRAINT escalations_level_check CHECK (level BETWEEN 1 AND 3),
    -- Which occurrence of the condition this is (for no_contact, the
    -- moment the case went quiet): the sweep raises each level of an
    -- episode at most once, whatever its status now.
    episode          text NOT NULL,
    reason           text NOT NULL,
    status           text NOT NULL DEFAULT 'open' CONSTRAINT escalations_status_check CHECK (status IN ('open', 'acknowledged', 'resolved')),
    raised_at        timestamptz NOT NULL,
    acknowledged_by  bigint REFERENCES users (id),
    acknowledged_at  timestamptz,
    acknowledge_note text NOT NULL DEFAULT '',
    resolved_by      bigint REFERENCES users (id),
    resolved_at      timestamptz,
    resolve_note     text NOT NULL DEFAULT '',
    CONSTRAINT escalations_episode_key UNIQUE (student_id, kind, level, episode)
);
CREATE INDEX escalations_open_idx ON escalations (school_id, level, id) WHERE status <> 'resolved';
CREATE INDEX escalations_student_idx ON escalations (student_id, id);
CREATE INDEX escalations_level_idx ON escalations (level, status, id);

CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    kind        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    student_id  bigint REFERENCES students (id),
    -- The same event never notifies the same user twice.
    dedupe_key  text NOT NULL,
    created_at  timestamptz NOT NULL,
    read_at     timestamptz,
    emailed_at  timestamptz,
    CONSTRAINT notifications_dedupe_key UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL;

CREATE TABLE settings (
    id          integer PRIMARY KEY CONSTRAINT settings_single_row CHECK (id = 1),
    data        jsonb NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    updated_by  bigint REFERENCES users (id),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO settings (id, data) VALUES (1, '{}');
