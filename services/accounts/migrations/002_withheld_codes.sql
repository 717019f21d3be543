-- A password-reset code asked for a username and mobile that do not belong together is not
-- sent, but it is recorded like a sent one: the cooldown and daily caps then answer the same
-- whether or not the pair matches, so the form tells no one which accounts exist.
ALTER TABLE sms_codes DROP CONSTRAINT sms_codes_status_check;
ALTER TABLE sms_codes ADD CONSTRAINT sms_codes_status_check
    CHECK (status IN ('live', 'used', 'dead', 'replaced', 'unsent', 'withheld'));
