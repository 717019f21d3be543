-- Rate-limit counters (shared/rate_limit.py): hits of one kind by one key in one fixed
-- window; every copy of a service counts in the same rows, so a limit holds across copies.
CREATE TABLE rate_limit_counts (
    what          text NOT NULL,
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          int NOT NULL,
    PRIMARY KEY (what, key, window_start)
);
CREATE INDEX rate_limit_counts_window ON rate_limit_counts (window_start);
