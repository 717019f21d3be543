-- A session's public id: what 登录设备 shows and ends one by. The token's hash stays the key
-- and never leaves the service; a volatile default gives every existing row an id of its own.
ALTER TABLE sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE sessions ADD CONSTRAINT sessions_id_key UNIQUE (id);

-- 修改手机号码: a code sent to the new mobile proves the person holds it.
ALTER TABLE sms_codes DROP CONSTRAINT sms_codes_purpose_check;
ALTER TABLE sms_codes ADD CONSTRAINT sms_codes_purpose_check
    CHECK (purpose IN ('register', 'reset_password', 'change_mobile'));
