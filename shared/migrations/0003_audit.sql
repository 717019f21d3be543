-- The audit trail (shared/audit.py, docs/audit.md): append-only, one row per thing done,
-- written in the transaction of the change it records. Each row carries the hash of the row
-- before it; `seq` numbers the chain without gaps (taken from the head, not a sequence).
-- Rows are added by audit_append() below, never by a bare INSERT.
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

-- Append rows given as their canonical bodies (shared/audit.py `body`): lock the head, give
-- each row the next number and its hash, SHA-256 of "<previous hash>:<seq>:<body>" in UTF-8,
-- insert them in one statement, move the head on. One call, so one round trip, and the head
-- is locked from here to the end of the caller's transaction.
CREATE FUNCTION audit_append(bodies text[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    head_seq   bigint;
    head_hash  text;
    body       text;
    seqs       bigint[] := '{}';
    links      text[] := '{}';
    hashes     text[] := '{}';
BEGIN
    SELECT last_seq, last_hash INTO head_seq, head_hash FROM audit_chain FOR UPDATE;
    FOREACH body IN ARRAY bodies LOOP
        head_seq := head_seq + 1;
        seqs := seqs || head_seq;
        links := links || head_hash;
        head_hash := encode(sha256(convert_to(head_hash || ':' || head_seq || ':' || body, 'UTF8')),
                            'hex');
        hashes := hashes || head_hash;
    END LOOP;
    INSERT INTO audit_log
    SELECT s, r.at, r.actor_id, r.actor_username, r.actor_name, r.actor_role, r.actor_unit_id,
           r.actor_org_id, r.actor_org_name, r.session_id, r.client_address, r.request_id,
           r.action, r.object_type, r.object_id, r.object_label, r.case_ids, r.outcome, r.code,
           r.details, p, h
    FROM unnest(bodies, seqs, links, hashes) AS given (b, s, p, h),
         LATERAL jsonb_populate_record(NULL::audit_log, b::jsonb) AS r;
    UPDATE audit_chain SET last_seq = head_seq, last_hash = head_hash;
    RETURN head_seq;
END $$;

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
