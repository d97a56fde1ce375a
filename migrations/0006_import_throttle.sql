-- Imports per user (dry runs included) in the current window, shared by
-- every process (internal/graduate, countImport). One row per user who
-- ever imported, so the table stays small without purging.
CREATE TABLE import_throttle (
    user_id            bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    window_started_at  timestamptz NOT NULL,
    imports            integer NOT NULL
);
