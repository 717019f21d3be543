-- Transactional outbox: events are written here in the transaction of the state change
-- that causes them; the relay publishes them and stamps sent_at.
CREATE TABLE outbox (
    seq          bigserial PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    routing_key  text NOT NULL,
    envelope     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

-- Wakes the relay at commit; the channel is per schema so services never wake each other.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Inbox: ids of the messages each consumer has handled, written with their effects.
CREATE TABLE inbox (
    message_id  uuid NOT NULL,
    consumer    text NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, consumer)
);
