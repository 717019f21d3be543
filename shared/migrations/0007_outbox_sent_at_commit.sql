-- Events sent at commit by the process that wrote them (shared/outbox.py, SendAtCommit):
-- the relay's rounds leave such a row alone for a grace period, and its insert wakes no
-- relay. Rows from before are the relay's, as they were.
ALTER TABLE outbox ADD COLUMN direct boolean NOT NULL DEFAULT false;

DROP TRIGGER outbox_notify ON outbox;
-- One NOTIFY a transaction all the same: PostgreSQL sends a channel's equal notices once.
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH ROW WHEN (NOT NEW.direct) EXECUTE FUNCTION outbox_notify();
