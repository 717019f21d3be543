-- The gateways cache who a session belongs to (docs/security.md, "Sessions"). Whatever ends a
-- session or changes what they cached of its user writes an accounts.sessions.changed event
-- into the outbox in the same transaction, from these triggers: a logout, a password change,
-- an operator disabled or deleted, a unit disabled, a name or role changed, by any code path
-- of this service or by an operator's hand in psql. The relay is woken by the outbox's own
-- trigger, so the event is on the wire milliseconds after the commit.

CREATE FUNCTION sessions_changed(user_ids uuid[], unit_ids uuid[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    event_id uuid := gen_random_uuid();
BEGIN
    user_ids := ARRAY(SELECT DISTINCT u FROM unnest(user_ids) u WHERE u IS NOT NULL);
    unit_ids := ARRAY(SELECT DISTINCT u FROM unnest(unit_ids) u WHERE u IS NOT NULL);
    IF cardinality(user_ids) = 0 AND cardinality(unit_ids) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO outbox (id, routing_key, envelope) VALUES (
        event_id,
        'accounts.sessions.changed',
        jsonb_build_object(
            'id', event_id,
            'type', 'accounts.sessions.changed',
            'version', 1,
            'occurred_at', to_char(clock_timestamp() AT TIME ZONE 'UTC',
                                   'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
            'producer', 'accounts',
            'correlation_id', NULL,
            'payload', jsonb_build_object(
                'user_ids', to_jsonb(user_ids::text[]),
                'unit_ids', to_jsonb(unit_ids::text[])
            )
        )
    );
END $$;

-- Statement triggers with transition tables: one event per statement, however many rows
-- (a password change ends all of a person's other sessions in one UPDATE).

CREATE FUNCTION sessions_ended() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM sessions_changed(ARRAY(SELECT user_id FROM old_rows), '{}');
    ELSE
        -- last_seen_at moves once a minute per session in use: that alone changes nothing
        PERFORM sessions_changed(ARRAY(
            SELECT n.user_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.revoked_at, n.expires_at, n.user_id)
                  IS DISTINCT FROM (o.revoked_at, o.expires_at, o.user_id)
        ), '{}');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER sessions_updated AFTER UPDATE ON sessions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_ended();
CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_ended();

CREATE FUNCTION users_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM sessions_changed(ARRAY(SELECT id FROM old_rows), '{}');
    ELSE
        -- what a session's user view shows; a lockout or a failed login changes none of it
        PERFORM sessions_changed(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.active, n.role, n.name, n.username, n.unit_id, n.org_id, n.org_name,
                   n.mobile, n.email, n.gender, n.id_number)
                  IS DISTINCT FROM
                  (o.active, o.role, o.name, o.username, o.unit_id, o.org_id, o.org_name,
                   o.mobile, o.email, o.gender, o.id_number)
        ), '{}');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER users_updated AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION users_changed();
CREATE TRIGGER users_deleted AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION users_changed();

CREATE FUNCTION units_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM sessions_changed('{}', ARRAY(SELECT id FROM old_rows));
    ELSE
        PERFORM sessions_changed('{}', ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.active, n.name) IS DISTINCT FROM (o.active, o.name)
        ));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER units_updated AFTER UPDATE ON units
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION units_changed();
CREATE TRIGGER units_deleted AFTER DELETE ON units
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION units_changed();
