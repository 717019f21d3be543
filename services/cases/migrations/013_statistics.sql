-- The statistics (统计查询, docs/reports.md): the sum of every case's contributions
-- (services/cases/domain/statistics.py), one row per cell: what is counted (figure), the
-- day it counts on, the dimensions the filters and the scopes need, and the amount. Every
-- move appends what it changes to case_statistics_changes in its transaction; the service
-- folds them into the sums every few seconds (services/cases/statistics_store.py); 014
-- fills the sums from the histories already there.
CREATE TABLE case_statistics (
    figure              text NOT NULL,
    on_day              date NOT NULL,      -- in Shenzhen
    round_id            text NOT NULL,
    department_id       text NOT NULL,
    committee_id        text NOT NULL,
    qualification_id    text NOT NULL,      -- the case figure's; '' for the others
    reached_department  boolean NOT NULL,   -- the case's marks, as on cases: the scopes
    reached_office      boolean NOT NULL,
    reached_committee   boolean NOT NULL,
    key                 text NOT NULL,
    detail              text NOT NULL,
    n                   bigint NOT NULL,
    seconds             bigint NOT NULL,    -- the stays' total length
    PRIMARY KEY (figure, on_day, round_id, department_id, committee_id, qualification_id,
                 reached_department, reached_office, reached_committee, key, detail)
);
CREATE INDEX case_statistics_day ON case_statistics (on_day);

-- The same sums over all days: what a query without dates reads (a twentieth of the rows
-- on the bench's 100,000 cases).
CREATE TABLE case_statistics_totals (
    figure              text NOT NULL,
    round_id            text NOT NULL,
    department_id       text NOT NULL,
    committee_id        text NOT NULL,
    qualification_id    text NOT NULL,
    reached_department  boolean NOT NULL,
    reached_office      boolean NOT NULL,
    reached_committee   boolean NOT NULL,
    key                 text NOT NULL,
    detail              text NOT NULL,
    n                   bigint NOT NULL,
    seconds             bigint NOT NULL,
    PRIMARY KEY (figure, round_id, department_id, committee_id, qualification_id,
                 reached_department, reached_office, reached_committee, key, detail)
);

-- What moves changed, not yet added to the two tables above: appended by every move,
-- folded and deleted every few seconds; readers add it in.
CREATE TABLE case_statistics_changes (
    figure              text NOT NULL,
    on_day              date NOT NULL,
    round_id            text NOT NULL,
    department_id       text NOT NULL,
    committee_id        text NOT NULL,
    qualification_id    text NOT NULL,
    reached_department  boolean NOT NULL,
    reached_office      boolean NOT NULL,
    reached_committee   boolean NOT NULL,
    key                 text NOT NULL,
    detail              text NOT NULL,
    n                   bigint NOT NULL,
    seconds             bigint NOT NULL
);
