-- SMS codes that confirm the mobile of someone raising an objection during 评后公示
-- (docs/integrity.md): the same codes, limits and tries as the other purposes.
ALTER TABLE sms_codes DROP CONSTRAINT sms_codes_purpose_check;
ALTER TABLE sms_codes ADD CONSTRAINT sms_codes_purpose_check
    CHECK (purpose IN ('register', 'reset_password', 'change_mobile', 'objection'));
