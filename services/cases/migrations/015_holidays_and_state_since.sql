-- When each case entered its current state: its step time limit counts from that day.
-- Cases of before this migration take the time of their last move (a note in the history,
-- from_state = to_state, moved nothing), or their opening.
ALTER TABLE cases ADD COLUMN state_since timestamptz;
UPDATE cases c SET state_since = coalesce(
    (SELECT max(h.at) FROM case_history h WHERE h.case_id = c.id AND h.from_state <> h.to_state),
    c.created_at);
ALTER TABLE cases ALTER COLUMN state_since SET NOT NULL;
ALTER TABLE cases ALTER COLUMN state_since SET DEFAULT now();
CREATE INDEX cases_state_since ON cases (state, state_since) WHERE state <> 'closed';

-- The official holiday schedule, kept by the sysadmin: per year the State Council's notice
-- (国务院办公厅关于某年部分节假日安排的通知), and its days. A year with a notice here is known
-- to the working-day calendar (services/cases/domain/calendar.py).
CREATE TABLE holiday_years (
    year           int PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    notice_title   text NOT NULL CHECK (notice_title <> ''),
    notice_number  text NOT NULL CHECK (notice_number <> ''),  -- 国办发明电〔2025〕7号
    notice_url     text NOT NULL CHECK (notice_url <> ''),
    updated_at     timestamptz NOT NULL,
    updated_by     uuid
);

-- One row per day the notice names: 放假 (holiday) or 调休上班 (workday, a weekend day worked).
-- A notice may name days of the year before it (元旦 from 30 December), so a day keeps its
-- notice's year; a day belongs to one notice only.
CREATE TABLE holiday_days (
    day          date PRIMARY KEY,
    notice_year  int NOT NULL REFERENCES holiday_years (year) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name         text NOT NULL CHECK (name <> ''),
    created_at   timestamptz NOT NULL,
    created_by   uuid
);
CREATE INDEX holiday_days_notice ON holiday_days (notice_year, day);
