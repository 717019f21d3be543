-- Which documents process (host:pid, shared/processes.identity) holds or last held a job:
-- with several copies, the one to look at when a job is slow.
ALTER TABLE print_jobs ADD COLUMN claimed_by text;
