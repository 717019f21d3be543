-- The audit trail (shared/audit.py, docs/audit.md): append-only, one row per thing done,
-- written in the transaction of the change it records. Each row carries the hash of the row
-- before it; `seq` numbers the chain without gaps (taken from the head, not a sequence).
CREATE TABLE audit_log (
    seq             bigint PRIMARY KEY,
    at              timestamptz NOT NULL,
    actor_id        uuid,
    actor_username  text NOT NULL DEFAULT '',
    actor_name      text NOT NULL DEFAULT '',
    actor_role      text NOT NULL,
    actor_unit_id   uuid,
    actor_org_id    text,
    actor_org_name  text NOT NULL DEFAULT '',
    session_id      uuid,
    client_address  text NOT NULL DEFAULT '',
    request_id      text,
    action          text NOT NULL,
    object_type     text NOT NULL DEFAULT '',
    object_id       text NOT NULL DEFAULT '',
    object_label    text NOT NULL DEFAULT '',
    case_ids        uuid[] NOT NULL DEFAULT '{}',  -- the cases whose materials it touched
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'refused')),
    code            text,                           -- why it was refused
    details         jsonb NOT NULL DEFAULT '{}',
    prev_hash       text NOT NULL,
    hash            text NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_cases ON audit_log USING gin (case_ids);

-- The chain's head: the last row written (locked by each writer until its commit, so two
-- writers never link to the same row) and the anchor, the last row a purge deleted, whose
-- hash the first row kept links to.
CREATE TABLE audit_chain (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_seq     bigint NOT NULL,
    last_hash    text NOT NULL,
    anchor_seq   bigint NOT NULL,
    anchor_hash  text NOT NULL,
    purged_at    timestamptz
);
INSERT INTO audit_chain (last_seq, last_hash, anchor_seq, anchor_hash)
VALUES (0, repeat('0', 64), 0, repeat('0', 64));

-- Append-only inside the database too: no UPDATE, DELETE or TRUNCATE of the trail, but the
-- purge's DELETE (it says so with SET LOCAL zc.audit_purge = 'on'). The database roles in
-- production add the same rule (docs/audit.md); this catches a mistake in our own code.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('zc.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
