-- A reminder of a case about to pass its step time limit, at most one per case and day: the
-- key is what keeps two copies of the sweep, or one restarted, from texting twice.
CREATE TABLE deadline_reminders (
    case_id   uuid NOT NULL REFERENCES cases (id),
    on_day    date NOT NULL,          -- the day in China it was sent for
    state     text NOT NULL,          -- the state the case waited in
    due_on    date NOT NULL,          -- the last day of its limit
    party     text NOT NULL,          -- who was reminded: unit:<uuid>, department:<id>, …
    sent_at   timestamptz NOT NULL,
    PRIMARY KEY (case_id, on_day)
);
CREATE INDEX deadline_reminders_day ON deadline_reminders (on_day);
