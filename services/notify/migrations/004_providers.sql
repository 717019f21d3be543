-- Real SMS providers (docs/sms.md).
--
-- A delivery is a template and its parameters, not free text: `template` (already there) is
-- the key of services/notify/templates.py, `params` its parameters; `body` stays the text as
-- the person reads it. `route` is the provider the current (or next) attempt goes to, primary
-- or fallback, and `route_failures` the passing failures in a row on it. Once a provider
-- accepted the attempt: which one, its id for the SMS (Alibaba BizId, Tencent SerialNo),
-- when; and the code of its report or refusal.
ALTER TABLE deliveries ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
ALTER TABLE deliveries ADD COLUMN route text NOT NULL DEFAULT 'primary'
    CHECK (route IN ('primary', 'fallback'));
ALTER TABLE deliveries ADD COLUMN route_failures int NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN provider text;
ALTER TABLE deliveries ADD COLUMN provider_ref text;
ALTER TABLE deliveries ADD COLUMN accepted_at timestamptz;
ALTER TABLE deliveries ADD COLUMN provider_code text;

-- The provider adapters' own record of each out-id they handed to a provider, written
-- (`claimed`) before the provider is called, under the out-id as primary key, so two copies
-- of one attempt never both call it; then `accepted` (with the provider's id) or `refused`
-- (its code and the class of the error), or `unknown` (the call's outcome was lost: a
-- timeout). A claim with no outcome is asked about at the provider (by OutId /
-- SessionContext) once `next_check_at` comes; so is an accepted SMS whose report has not come.
CREATE TABLE provider_sends (
    out_id        text PRIMARY KEY,
    provider      text NOT NULL,
    delivery_id   uuid NOT NULL,
    attempt       int NOT NULL,
    mobile        text NOT NULL,
    state         text NOT NULL CHECK (state IN ('claimed', 'unknown', 'accepted', 'refused')),
    claimed_at    timestamptz NOT NULL,
    claimed_by    text NOT NULL,
    settled_at    timestamptz,
    provider_ref  text,
    code          text,
    error_class   text CHECK (error_class IN ('permanent', 'throttled', 'transient')),
    retry_after   double precision,
    detail        text,
    report        text CHECK (report IN ('delivered', 'failed')),
    report_code   text,
    reported_at   timestamptz,
    next_check_at timestamptz,
    checks        int NOT NULL DEFAULT 0
);
CREATE INDEX provider_sends_due ON provider_sends (provider, next_check_at)
    WHERE next_check_at IS NOT NULL;
CREATE INDEX provider_sends_ref ON provider_sends (provider, provider_ref)
    WHERE provider_ref IS NOT NULL;
