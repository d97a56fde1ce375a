-- Schools, their departments, the people who log in, and what login needs.

CREATE TABLE schools (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- 学校标识码: the ten-digit national institution code.
    code        text NOT NULL CONSTRAINT schools_code_format CHECK (code ~ '^[0-9]{10}$'),
    name        text NOT NULL CONSTRAINT schools_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    region      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schools_code_key UNIQUE (code),
    CONSTRAINT schools_name_key UNIQUE (name)
);

CREATE TABLE departments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES schools (id),
    name        text NOT NULL CONSTRAINT departments_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT departments_school_name_key UNIQUE (school_id, name),
    -- Lets other tables require that a department belongs to their school.
    CONSTRAINT departments_school_id_key UNIQUE (school_id, id)
);

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text NOT NULL CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name   text NOT NULL CONSTRAINT users_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 100),
    role           text NOT NULL CONSTRAINT users_role_check CHECK (role IN ('student', 'counselor', 'supervisor', 'province', 'admin')),
    school_id      bigint REFERENCES schools (id),
    department_id  bigint,
    email          text NOT NULL DEFAULT '',
    -- A student account's graduate file (constraint added with that table).
    student_id     bigint,
    password_hash  text NOT NULL,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_department_fkey FOREIGN KEY (school_id, department_id) REFERENCES departments (school_id, id),
    CONSTRAINT users_school_required CHECK (role NOT IN ('student', 'counselor', 'supervisor') OR school_id IS NOT NULL),
    CONSTRAINT users_school_forbidden CHECK (role NOT IN ('province', 'admin') OR (school_id IS NULL AND department_id IS NULL))
);
CREATE INDEX users_school_role_idx ON users (school_id, role, id);

-- Refresh tokens are stored only as SHA-256 hashes. Each login starts a
-- family; each refresh uses one token and issues the next in the family.
CREATE TABLE refresh_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     bigint NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    CONSTRAINT refresh_tokens_hash_key UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Failed logins per account ('user:<name>') and per client ('ip:<addr>').
CREATE TABLE login_throttle (
    key                text PRIMARY KEY,
    failures           integer NOT NULL,
    window_started_at  timestamptz NOT NULL,
    locked_until       timestamptz
);
