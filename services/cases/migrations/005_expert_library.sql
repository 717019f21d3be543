-- The expert library (评审专家库): one row per expert in one committee's library. A person
-- serving two committees has a row in each (same ID number), kept by each on its own.
-- Meetings (issue 12, part 2) draw from these rows and refer to them by id.
CREATE TABLE experts (
    id              uuid PRIMARY KEY,
    committee_id    text NOT NULL REFERENCES committees (id),
    name            text NOT NULL,
    id_number       text NOT NULL CHECK (id_number ~ '^[0-9]{17}[0-9X]$'),
    mobile          text NOT NULL,
    unit_id         uuid,           -- a unit registered in accounts, when it is one
    unit_name       text NOT NULL,  -- as registered, or typed by hand
    series_id       text NOT NULL REFERENCES series (id),
    speciality      text NOT NULL,
    title_level     text NOT NULL CHECK (title_level IN ('正高', '副高', '中级', '初级')),
    joined_on       date NOT NULL,  -- 入库
    term_ends_on    date NOT NULL,  -- at most three years on (checked by the domain too)
    removed_on      date,           -- 出库
    removed_reason  text,
    removed_by      text,
    version         int NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK (term_ends_on > joined_on AND term_ends_on <= joined_on + interval '3 years'),
    CHECK ((removed_on IS NULL) = (removed_reason IS NULL))
);
-- One live entry per person and committee; a removed one stays as history, so the same
-- person may enter that library again later.
CREATE UNIQUE INDEX experts_live_per_committee ON experts (committee_id, id_number)
    WHERE removed_on IS NULL;
CREATE INDEX experts_committee_name ON experts (committee_id, name);
CREATE INDEX experts_id_number ON experts (id_number);
