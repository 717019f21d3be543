-- Lockout that cannot be used as a weapon (docs/security.md): wrong passwords pause the
-- (account, client address) pair first; the account-wide lock, after many failures from many
-- addresses, keeps out only addresses the account was never used from.
CREATE INDEX login_failures_pair ON login_failures (username_key, client_ip, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- Where each account last logged in successfully: its usual addresses.
CREATE TABLE login_addresses (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_ip        text NOT NULL,
    last_success_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, client_ip)
);

-- When the owner was last told of a lock by SMS: at most one such SMS a day.
ALTER TABLE users ADD COLUMN lock_notified_at timestamptz;

-- The sweep drops expired sessions and old codes by time.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sms_codes_created ON sms_codes (created_at);
CREATE INDEX captchas_expires ON captchas (expires_at);
