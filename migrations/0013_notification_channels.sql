-- Notification channels (issue 15): where reminders go besides the in-app
-- inbox — e-mail, a 企业微信 group bot, a 钉钉 custom robot — for a user or,
-- set by its supervisor, for a school's shared group; quiet hours; the
-- daily digest's runs; and each delivery with its attempts. All written by
-- internal/notify. Webhook URLs and signing secrets are sealed
-- (internal/sealed, the column name as associated data); what goes out is
-- counts and links only, never a graduate's name or number.

-- A user's choices. No row means the defaults.
CREATE TABLE notify_preferences (
    user_id      bigint PRIMARY KEY REFERENCES users (id),
    -- digest: the daily digest and urgent escalations by e-mail (counts and
    -- links); each: also one e-mail per notification; off: none.
    email_mode   text NOT NULL DEFAULT 'digest' CONSTRAINT notify_preferences_email_mode_check
                 CHECK (email_mode IN ('digest', 'each', 'off')),
    -- Quiet hours in Asia/Shanghai; start = end means none. A window whose
    -- start is after its end runs over midnight.
    quiet_start  time NOT NULL DEFAULT '22:00',
    quiet_end    time NOT NULL DEFAULT '07:30',
    version      integer NOT NULL DEFAULT 1,
    updated_at   timestamptz NOT NULL
);

-- A school's digest time and its shared channel's quiet hours, set by the
-- school's supervisors. No row means the defaults.
CREATE TABLE notify_schools (
    school_id    bigint PRIMARY KEY REFERENCES schools (id),
    digest_at    time NOT NULL DEFAULT '08:00' CONSTRAINT notify_schools_digest_at_check
                 CHECK (extract(second FROM digest_at) = 0 AND extract(minute FROM digest_at)::int % 5 = 0),
    quiet_start  time NOT NULL DEFAULT '22:00',
    quiet_end    time NOT NULL DEFAULT '07:30',
    version      integer NOT NULL DEFAULT 1,
    updated_by   bigint REFERENCES users (id),
    updated_at   timestamptz NOT NULL
);

-- A webhook channel of a user (user_id) or of a school (school_id).
-- Removing one erases its URL and secret and keeps the row for the
-- deliveries' history.
CREATE TABLE notify_channels (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint REFERENCES users (id),
    school_id      bigint REFERENCES schools (id),
    kind           text NOT NULL CONSTRAINT notify_channels_kind_check CHECK (kind IN ('wecom', 'dingtalk')),
    label          text NOT NULL CONSTRAINT notify_channels_label_length CHECK (char_length(label) BETWEEN 1 AND 50),
    url_sealed     bytea,
    secret_sealed  bytea,
    -- The URL's host, shown instead of the URL (which holds the bot's key).
    host           text NOT NULL,
    digest         boolean NOT NULL DEFAULT true,
    urgent         boolean NOT NULL DEFAULT true,
    -- Set when the endpoint refused for good (a revoked bot); cleared by a
    -- test message that goes through.
    broken_at      timestamptz,
    broken_reason  text NOT NULL DEFAULT '',
    last_ok_at     timestamptz,
    created_by     bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    removed_at     timestamptz,
    CONSTRAINT notify_channels_one_owner CHECK ((user_id IS NULL) <> (school_id IS NULL)),
    CONSTRAINT notify_channels_removed_erased CHECK (removed_at IS NULL OR (url_sealed IS NULL AND secret_sealed IS NULL)),
    CONSTRAINT notify_channels_url_required CHECK (removed_at IS NOT NULL OR url_sealed IS NOT NULL)
);
CREATE INDEX notify_channels_user_idx ON notify_channels (user_id) WHERE removed_at IS NULL;
CREATE INDEX notify_channels_school_idx ON notify_channels (school_id) WHERE removed_at IS NULL;

-- One run of the daily digest for a scope (a school's id; 0 for the users
-- of no school) and day: a day's digest is built once per scope, at its
-- time or, after downtime, late the same day.
CREATE TABLE notify_digest_runs (
    scope   bigint NOT NULL,
    day     date NOT NULL,
    ran_at  timestamptz NOT NULL,
    PRIMARY KEY (scope, day)
);

-- One message to one channel (a webhook, or a user's e-mail when
-- channel_id is NULL). The idempotency key names the event and the
-- channel: a delivery is created once per key, and sent at most once.
CREATE TABLE notify_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key  text NOT NULL,
    channel_id       bigint REFERENCES notify_channels (id),
    user_id          bigint REFERENCES users (id),
    school_id        bigint REFERENCES schools (id),
    medium           text NOT NULL CONSTRAINT notify_deliveries_medium_check CHECK (medium IN ('email', 'wecom', 'dingtalk')),
    purpose          text NOT NULL CONSTRAINT notify_deliveries_purpose_check CHECK (purpose IN ('digest', 'urgent', 'test')),
    -- The Shanghai day of a digest: it is not sent after that day.
    day              date,
    subject          text NOT NULL,
    -- Counts and a link: never a graduate's name, number or ledger text.
    body             text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CONSTRAINT notify_deliveries_state_check
                     CHECK (state IN ('pending', 'sent', 'failed', 'uncertain', 'skipped')),
    -- The end of the recipient's quiet hours when it was created in them.
    not_before       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    done_at          timestamptz,
    note             text NOT NULL DEFAULT '',
    CONSTRAINT notify_deliveries_key UNIQUE (idempotency_key),
    CONSTRAINT notify_deliveries_target CHECK (channel_id IS NOT NULL OR (medium = 'email' AND user_id IS NOT NULL))
);
CREATE INDEX notify_deliveries_recent_idx ON notify_deliveries (id DESC);
CREATE INDEX notify_deliveries_channel_idx ON notify_deliveries (channel_id, id) WHERE channel_id IS NOT NULL;

-- Each attempt to send a delivery, recorded before the request goes out
-- (outcome NULL while in flight) and completed after: an attempt found
-- still in flight belongs to a process that died mid-request, and its
-- delivery is not sent again.
CREATE TABLE notify_attempts (
    delivery_id  bigint NOT NULL REFERENCES notify_deliveries (id),
    attempt      integer NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    outcome      text CONSTRAINT notify_attempts_outcome_check CHECK (outcome IN ('ok', 'retry', 'permanent', 'unknown')),
    http_status  integer,
    latency_ms   integer,
    -- What went wrong, without the URL, its key or the secret.
    error        text NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, attempt)
);
