-- An SMS is recorded as 'sending' and committed before it is handed to the providers, and
-- 'sent' once the broker confirmed it. A delivery still 'sending' after a crash is not sent
-- again blindly: a receipt settles it, or, once its lease (sending_since + a setting) is
-- over, the reconciler republishes the same attempt (the same out-id) flagged as a
-- reconciliation, and the provider adapter sends it only if that out-id never went out.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'expired'));
ALTER TABLE deliveries ADD COLUMN sending_since timestamptz;
ALTER TABLE deliveries ADD COLUMN reconciliations int NOT NULL DEFAULT 0;
CREATE INDEX deliveries_sending ON deliveries (sending_since) WHERE status = 'sending';
