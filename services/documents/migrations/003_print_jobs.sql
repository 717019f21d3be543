-- Print jobs: a selection printed as one PDF in the background, with its progress.
-- Whichever documents process claims a job (FOR UPDATE SKIP LOCKED) holds it for a lease that
-- it renews while it works; a process that dies lets the lease run out and another one takes
-- the job over (parts already rendered are found by checksum, not rendered again).
CREATE TABLE print_jobs (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL,
    case_ids      uuid[] NOT NULL,
    actor         jsonb NOT NULL,          -- who asked: the cases service decides what they see
    created_by    uuid NOT NULL,
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'done', 'failed')),
    total         int NOT NULL CHECK (total >= 0),   -- documents to render (0 until known)
    done          int NOT NULL DEFAULT 0,
    attempts      int NOT NULL DEFAULT 0,
    lease_until   timestamptz,
    document_id   uuid REFERENCES rendered_documents (id),
    skipped       jsonb NOT NULL DEFAULT '[]',       -- [{case_id, name, reason}]
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);

CREATE INDEX print_jobs_open ON print_jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX print_jobs_of_user ON print_jobs (created_by, created_at DESC);
