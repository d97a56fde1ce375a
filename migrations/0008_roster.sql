-- The 宏志助航 training roster: the national training bases, their cohorts,
-- one place per graduate and cohort with its history, and the delivery of
-- every change to the base's webhook. Written only by internal/roster
-- (docs/architecture.md, "The training roster").

CREATE TABLE training_bases (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                   text NOT NULL CONSTRAINT training_bases_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    -- The institution that hosts the base (华南农业大学, 深圳职业技术学院…),
    -- which need not be one of the schools bangfu follows.
    host_school            text NOT NULL CONSTRAINT training_bases_host_length CHECK (char_length(host_school) BETWEEN 1 AND 100),
    contact_name           text NOT NULL DEFAULT '',
    contact_phone          text NOT NULL DEFAULT '',
    contact_email          text NOT NULL DEFAULT '',
    -- The delivery webhook: URL and signing secret AES-GCM sealed (a URL
    -- may carry a token); only the host is kept in clear, for display.
    webhook_url_sealed     bytea,
    webhook_host           text NOT NULL DEFAULT '',
    webhook_secret_sealed  bytea,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    version                integer NOT NULL DEFAULT 1,
    CONSTRAINT training_bases_name_key UNIQUE (name),
    CONSTRAINT training_bases_webhook_pair CHECK ((webhook_url_sealed IS NULL) = (webhook_secret_sealed IS NULL))
);

-- Training-base staff: a role of its own, tied to one base and no school.
ALTER TABLE users ADD COLUMN base_id bigint CONSTRAINT users_base_id_fkey REFERENCES training_bases (id);
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('student', 'counselor', 'supervisor', 'province', 'admin', 'base'));
ALTER TABLE users DROP CONSTRAINT users_school_forbidden;
ALTER TABLE users ADD CONSTRAINT users_school_forbidden
    CHECK (role NOT IN ('province', 'admin', 'base') OR (school_id IS NULL AND department_id IS NULL));
ALTER TABLE users ADD CONSTRAINT users_base_required CHECK ((role = 'base') = (base_id IS NOT NULL));
CREATE INDEX users_base_idx ON users (base_id) WHERE base_id IS NOT NULL;

CREATE TABLE cohorts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base_id              bigint NOT NULL REFERENCES training_bases (id),
    name                 text NOT NULL CONSTRAINT cohorts_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    mode                 text NOT NULL CONSTRAINT cohorts_mode_check CHECK (mode IN ('online', 'offline')),
    starts_on            date NOT NULL,
    ends_on              date NOT NULL,
    capacity             integer NOT NULL CONSTRAINT cohorts_capacity_check CHECK (capacity BETWEEN 1 AND 100000),
    target_year          integer NOT NULL CONSTRAINT cohorts_target_year_check CHECK (target_year BETWEEN 2000 AND 2100),
    nomination_deadline  date NOT NULL,
    state                text NOT NULL DEFAULT 'draft' CONSTRAINT cohorts_state_check
                         CHECK (state IN ('draft', 'open', 'closed', 'finished')),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL DEFAULT 1,
    CONSTRAINT cohorts_base_name_key UNIQUE (base_id, name),
    CONSTRAINT cohorts_dates_check CHECK (starts_on <= ends_on AND nomination_deadline <= starts_on)
);
CREATE INDEX cohorts_base_idx ON cohorts (base_id, id);
CREATE INDEX cohorts_open_idx ON cohorts (target_year) WHERE state = 'open';

-- A roster build claims the next epoch of its cohort before it reads; a
-- change of eligibility reads the epoch FOR SHARE and enqueues the build of
-- that epoch, so it is either seen by the running build or builds again.
CREATE TABLE roster_build_epochs (
    cohort_id  bigint PRIMARY KEY REFERENCES cohorts (id),
    epoch      bigint NOT NULL DEFAULT 0
);

CREATE TABLE roster_places (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cohort_id       bigint NOT NULL REFERENCES cohorts (id),
    student_id      bigint NOT NULL REFERENCES students (id),
    -- The graduate's school (a file never changes school), for quotas and
    -- scopes. No foreign key of its own: the build inserts 100,000 places
    -- of a few hundred schools at once, and checking the key locks the
    -- same school rows again for every place.
    school_id       bigint NOT NULL,
    status          text NOT NULL CONSTRAINT roster_places_status_check CHECK (status IN (
                        'nominated', 'confirmed', 'attending', 'completed', 'waitlisted', 'declined', 'withdrawn')),
    -- When the graduate became eligible: the waitlist's order.
    eligible_since  timestamptz NOT NULL,
    -- The last change: who (NULL: the system) and why.
    reason          text NOT NULL DEFAULT '',
    changed_by      bigint REFERENCES users (id),
    changed_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    version         integer NOT NULL DEFAULT 1,
    CONSTRAINT roster_places_cohort_student_key UNIQUE (cohort_id, student_id)
);
CREATE INDEX roster_places_cohort_idx ON roster_places (cohort_id, status, school_id, eligible_since, id);
CREATE INDEX roster_places_student_idx ON roster_places (student_id, cohort_id);
CREATE INDEX roster_places_completed_idx ON roster_places (student_id) WHERE status = 'completed';

-- Every change of a place, append-only, written only with its place in
-- one transaction (and places are never deleted). The cohort and the
-- graduate are the place's, copied for the indexes. No foreign keys: a
-- build writes 100,000 events at once, and every key checked is a query
-- and a row lock of its own.
CREATE TABLE roster_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    place_id     bigint NOT NULL,
    cohort_id    bigint NOT NULL,
    student_id   bigint NOT NULL,
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    actor_id     bigint REFERENCES users (id),
    actor_role   text NOT NULL,
    reason       text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL
);
CREATE INDEX roster_events_place_idx ON roster_events (place_id, id);
CREATE INDEX roster_events_cohort_idx ON roster_events (cohort_id, id);
CREATE TRIGGER roster_events_append_only BEFORE UPDATE OR DELETE ON roster_events
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER roster_events_no_truncate BEFORE TRUNCATE ON roster_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();

-- The changes the base receives, and each attempt to deliver one.
CREATE TABLE roster_deliveries (
    event_id      bigint PRIMARY KEY REFERENCES roster_events (id),
    cohort_id     bigint NOT NULL REFERENCES cohorts (id),
    base_id       bigint NOT NULL REFERENCES training_bases (id),
    state         text NOT NULL DEFAULT 'pending' CONSTRAINT roster_deliveries_state_check
                  CHECK (state IN ('pending', 'delivered', 'skipped')),
    attempts      integer NOT NULL DEFAULT 0,
    skip_reason   text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    delivered_at  timestamptz
);
CREATE INDEX roster_deliveries_cohort_idx ON roster_deliveries (cohort_id, event_id);
CREATE INDEX roster_deliveries_pending_idx ON roster_deliveries (base_id, event_id) WHERE state = 'pending';

CREATE TABLE roster_delivery_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     bigint NOT NULL REFERENCES roster_deliveries (event_id),
    attempt      integer NOT NULL,
    at           timestamptz NOT NULL,
    -- NULL when no HTTP response came (refused, timed out).
    status_code  integer,
    latency_ms   integer NOT NULL,
    error        text NOT NULL DEFAULT ''
);
CREATE INDEX roster_delivery_attempts_event_idx ON roster_delivery_attempts (event_id, id);
