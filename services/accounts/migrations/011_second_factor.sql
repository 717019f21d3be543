-- Reviewers' second factor (docs/security.md): a correct password for a department, office,
-- committee, expert or sysadmin account opens a login challenge, not a session; the code
-- sent to the account's registered mobile (sms_codes, purpose login) completes it.
ALTER TABLE sms_codes DROP CONSTRAINT sms_codes_purpose_check;
ALTER TABLE sms_codes ADD CONSTRAINT sms_codes_purpose_check
    CHECK (purpose IN ('register', 'reset_password', 'change_mobile', 'objection', 'login'));

CREATE TABLE login_challenges (
    id          uuid PRIMARY KEY,                 -- what the second step names
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('open', 'passed', 'dead')),
    attempts    int NOT NULL DEFAULT 0,           -- wrong codes, across resent codes
    client_ip   text,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX login_challenges_expires ON login_challenges (expires_at);
