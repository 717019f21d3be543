-- One row per outgoing SMS, with its delivery state; delivery_events keeps every change.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('code', 'notice')),
    mobile           text NOT NULL,
    template         text NOT NULL,
    body             text NOT NULL,
    priority         int NOT NULL,
    status           text NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'failed',
                                                     'expired')),
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    expires_at       timestamptz,
    reference        text,
    last_error       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'queued';
CREATE INDEX deliveries_reference ON deliveries (reference);

CREATE TABLE delivery_events (
    delivery_id  uuid NOT NULL REFERENCES deliveries (id),
    status       text NOT NULL,
    at           timestamptz NOT NULL,
    detail       text
);
CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id, at);
