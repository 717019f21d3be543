-- The request that asked for a print job (shared/correlation.py): the job's log lines, the
-- event it sends and its audit row carry it, as everything else a request causes does.
ALTER TABLE print_jobs ADD COLUMN request_id text;
