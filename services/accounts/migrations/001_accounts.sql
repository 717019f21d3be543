-- Units (用人单位) and every user of the system.
CREATE TABLE units (
    id              uuid PRIMARY KEY,
    org_code        text NOT NULL UNIQUE,          -- 9-char organisation code (from a USCC too)
    credit_code     text UNIQUE,                   -- 18-char USCC when registered with one
    name            text NOT NULL,
    si_unit_no      text NOT NULL,
    source          text NOT NULL CHECK (source IN ('local', 'talent')),
    talent_unit_id  text UNIQUE,
    talent_version  bigint,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                   uuid PRIMARY KEY,
    username             text NOT NULL,
    password_hash        text NOT NULL,
    role                 text NOT NULL CHECK (role IN ('sysadmin', 'unit_admin', 'unit_operator',
                                                       'applicant', 'department', 'office',
                                                       'committee')),
    unit_id              uuid REFERENCES units (id),
    org_id               text,                     -- department / office / committee code
    org_name             text,
    name                 text NOT NULL,
    id_number            text,
    gender               text CHECK (gender IN ('男', '女')),
    mobile               text,
    email                text,
    phone                text,
    si_no                text,
    active               boolean NOT NULL DEFAULT true,
    locked_until         timestamptz,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    created_by           uuid,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((role IN ('unit_admin', 'unit_operator', 'applicant')) = (unit_id IS NOT NULL)),
    CHECK ((role IN ('department', 'office', 'committee')) = (org_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_username ON users (lower(username));
-- A person's ID number is unique system-wide.
CREATE UNIQUE INDEX users_id_number ON users (id_number) WHERE id_number IS NOT NULL;
-- Exactly one admin per unit, fixed once registered.
CREATE UNIQUE INDEX users_one_admin_per_unit ON users (unit_id) WHERE role = 'unit_admin';
CREATE INDEX users_unit_role ON users (unit_id, role);

CREATE TABLE sessions (
    token_hash    bytea PRIMARY KEY,               -- sha256 of the cookie value
    user_id       uuid NOT NULL REFERENCES users (id),
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,            -- absolute limit
    revoked_at    timestamptz,
    client_ip     text,
    user_agent    text
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE login_failures (
    username_key  text NOT NULL,
    at            timestamptz NOT NULL,
    client_ip     text
);
CREATE INDEX login_failures_recent ON login_failures (username_key, at);

CREATE TABLE captchas (
    id           uuid PRIMARY KEY,
    answer_hash  bytea NOT NULL,
    expires_at   timestamptz NOT NULL,
    used         boolean NOT NULL DEFAULT false
);

CREATE TABLE sms_codes (
    id          uuid PRIMARY KEY,
    mobile      text NOT NULL,
    purpose     text NOT NULL CHECK (purpose IN ('register', 'reset_password')),
    code_hash   text NOT NULL,
    status      text NOT NULL CHECK (status IN ('live', 'used', 'dead', 'replaced', 'unsent')),
    attempts    int NOT NULL DEFAULT 0,
    client_ip   text,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
-- One live code per phone and purpose.
CREATE UNIQUE INDEX sms_codes_one_live ON sms_codes (mobile, purpose) WHERE status = 'live';
CREATE INDEX sms_codes_mobile_day ON sms_codes (mobile, created_at);
CREATE INDEX sms_codes_ip_day ON sms_codes (client_ip, created_at);

-- The social-security enrolment registry (社保参保登记), filled by CSV import and events.
CREATE TABLE si_enrolments (
    id_number    text NOT NULL,
    si_unit_no   text NOT NULL,
    si_no        text NOT NULL,
    unit_name    text NOT NULL,
    person_name  text NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    version      bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id_number, si_unit_no)
);
