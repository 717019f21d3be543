-- ID numbers and mobiles are kept sealed from 010 on (services/cases/sealed.py): the columns
-- hold tokens, so checks on their digits go, and where a row is found or kept unique by an
-- ID number its blind index (HMAC, filled by 010 and by every write) takes the index's place.
ALTER TABLE experts DROP CONSTRAINT IF EXISTS experts_id_number_check;
ALTER TABLE experts ADD COLUMN id_number_index text;
DROP INDEX experts_live_per_committee;
DROP INDEX experts_id_number;
CREATE UNIQUE INDEX experts_live_per_committee ON experts (committee_id, id_number_index)
    WHERE removed_on IS NULL;
CREATE INDEX experts_id_number_index ON experts (id_number_index);

-- One account per ID number: the key becomes the blind index. The index columns may be
-- empty for a moment: a loader writing straight into the tables (tools/demo.py) has them
-- filled when it seals what it wrote, as 010 does (tools.personal_data.seal_written).
ALTER TABLE expert_accounts DROP CONSTRAINT expert_accounts_pkey;
ALTER TABLE expert_accounts ADD COLUMN id_number_index text;
CREATE UNIQUE INDEX expert_accounts_id_number_index ON expert_accounts (id_number_index);

ALTER TABLE meeting_members ADD COLUMN id_number_index text;
DROP INDEX meeting_members_id_number;
CREATE INDEX meeting_members_id_number_index ON meeting_members (id_number_index);

ALTER TABLE discredits ADD COLUMN id_number_index text;
DROP INDEX discredits_running;
CREATE INDEX discredits_running ON discredits (id_number_index, last_day)
    WHERE ended_at IS NULL;
