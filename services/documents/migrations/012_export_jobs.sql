-- Excel exports (导出Excel, docs/reports.md): a list exported as an .xlsx in the background.
-- A documents process claims the job (FOR UPDATE SKIP LOCKED, a lease it renews) and asks
-- the list's owner to build the file; the owner reports the rows written (done) and sends the
-- finished file here in parts, each tagged with the attempt that built it, so a part from an
-- attempt that lost its lease is never mixed into another attempt's file.
CREATE TABLE export_jobs (
    id            uuid PRIMARY KEY,
    list          text NOT NULL,
    owner         text NOT NULL,           -- the service that builds the file
    filters       jsonb NOT NULL,          -- the list's query, as its model reads it
    title         text NOT NULL,
    actor         jsonb NOT NULL,          -- who asked: the owner decides what they see
    created_by    uuid NOT NULL,
    request_id    text,
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'done', 'failed', 'expired')),
    total         int NOT NULL CHECK (total >= 0),   -- rows when it was asked for
    done          int NOT NULL DEFAULT 0,            -- rows written
    attempts      int NOT NULL DEFAULT 0,
    lease_until   timestamptz,
    parts         int,                     -- of the finished file
    size_bytes    bigint,
    sha256        text,
    full_fields   text[] NOT NULL DEFAULT '{}',
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);
CREATE INDEX export_jobs_open ON export_jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX export_jobs_finished ON export_jobs (finished_at) WHERE status = 'done';

-- The file in parts of 1 MiB (already deflated: PostgreSQL's compression would only cost).
CREATE TABLE export_parts (
    job_id   uuid NOT NULL REFERENCES export_jobs (id) ON DELETE CASCADE,
    attempt  int NOT NULL,
    seq      int NOT NULL CHECK (seq >= 0),
    content  bytea NOT NULL,
    PRIMARY KEY (job_id, attempt, seq)
);
ALTER TABLE export_parts ALTER COLUMN content SET STORAGE EXTERNAL;
