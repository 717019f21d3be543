-- The request id of what caused the SMS (the HTTP request behind a code or a case move),
-- so one request can be followed from the browser to the phone (shared/correlation.py).
ALTER TABLE deliveries ADD COLUMN correlation_id text;
CREATE INDEX deliveries_correlation ON deliveries (correlation_id) WHERE correlation_id IS NOT NULL;
