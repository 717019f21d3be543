-- ID numbers and mobiles sealed at rest (docs/personal-data.md): the columns keep their
-- names and will hold sealed tokens (009); rows are found and kept unique by a blind index
-- beside each, since a sealed value differs every time it is sealed.
ALTER TABLE users ADD COLUMN id_number_index text, ADD COLUMN mobile_index text;
ALTER TABLE sms_codes ADD COLUMN mobile_index text;
ALTER TABLE si_enrolments ADD COLUMN id_number_index text;
-- What 显示完整号码 names an enrolment by, now that its key is no value anybody can read.
ALTER TABLE si_enrolments ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE;

DROP INDEX users_id_number;
DROP INDEX users_expert_id_number;
CREATE UNIQUE INDEX users_id_number ON users (id_number_index)
    WHERE id_number_index IS NOT NULL AND role <> 'expert';
CREATE UNIQUE INDEX users_expert_id_number ON users (id_number_index) WHERE role = 'expert';

DROP INDEX sms_codes_one_live;
DROP INDEX sms_codes_mobile_day;
CREATE UNIQUE INDEX sms_codes_one_live ON sms_codes (mobile_index, purpose)
    WHERE status = 'live';
CREATE INDEX sms_codes_mobile_day ON sms_codes (mobile_index, created_at);

-- The key moves to the index once 009 has filled it (010).
ALTER TABLE si_enrolments DROP CONSTRAINT si_enrolments_pkey;
