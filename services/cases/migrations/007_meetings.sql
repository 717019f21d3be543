-- Review meetings (评审会议, docs/committee.md): the committees' meeting rules, the meetings,
-- their cases, the drawn experts, conflicts, exclusions per case, and the secret ballot
-- (counts per case and a has-voted mark per expert and case, never a choice).

-- Set by the sysadmin per committee; a committee without a row has the defaults.
CREATE TABLE committee_meeting_rules (
    committee_id     text PRIMARY KEY REFERENCES committees (id),
    basis            text NOT NULL DEFAULT 'series' CHECK (basis IN ('series', 'speciality')),
    min_members      int CHECK (min_members >= 1),  -- its own minimum (provincial approval)
    max_members      int CHECK (max_members >= 1),
    -- results reached outside the system, recorded with the 评审通过/不通过 buttons
    outside_results  boolean NOT NULL DEFAULT false,
    CHECK (max_members IS NULL OR min_members IS NULL OR max_members >= min_members)
);

-- One account per expert (per ID number, whatever library holds them): the cases service
-- names its id, the accounts service opens it (meeting.drawn), so an expert signed in is
-- known here by that id.
CREATE TABLE expert_accounts (
    id_number  text PRIMARY KEY,
    user_id    uuid NOT NULL UNIQUE
);

CREATE TABLE meetings (
    id              uuid PRIMARY KEY,
    committee_id    text NOT NULL REFERENCES committees (id),
    round_id        text NOT NULL REFERENCES rounds (id),
    meets_on        date NOT NULL,
    starts_at       time NOT NULL,
    place           text NOT NULL,
    size            int NOT NULL CHECK (size >= 1 AND size % 2 = 1),
    phase           text NOT NULL DEFAULT 'planned'
                    CHECK (phase IN ('planned', 'drawn', 'voting', 'closed', 'cancelled')),
    -- the draw: reproducible from the seed and the pool (entry ids, sorted)
    seed            text,
    pool            text[],
    reserve_ratio   int,
    drawn_at        timestamptz,
    drawn_by        text,
    opened_at       timestamptz,
    opened_by       text,
    closed_at       timestamptz,
    closed_by       text,
    cancelled_at    timestamptz,
    cancel_reason   text,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    version         int NOT NULL DEFAULT 0,
    CHECK ((phase = 'planned' OR phase = 'cancelled') OR seed IS NOT NULL)
);
CREATE INDEX meetings_committee ON meetings (committee_id, meets_on DESC);

-- The cases before a meeting; `open` while the meeting is, so that a case sits in at most
-- one open meeting. The counts are the tally (filled as votes come), never who voted what.
CREATE TABLE meeting_cases (
    meeting_id  uuid NOT NULL REFERENCES meetings (id),
    case_id     uuid NOT NULL REFERENCES cases (id),
    position    int NOT NULL,
    unit_name   text NOT NULL,  -- the applicant's unit as assigned: recusal compares names
    open        boolean NOT NULL DEFAULT true,
    agree       int NOT NULL DEFAULT 0 CHECK (agree >= 0),
    disagree    int NOT NULL DEFAULT 0 CHECK (disagree >= 0),
    abstain     int NOT NULL DEFAULT 0 CHECK (abstain >= 0),
    eligible    int,            -- fixed when the vote opens: present and not excluded
    present     int,
    passed      boolean,        -- once the vote closed
    PRIMARY KEY (meeting_id, case_id)
);
CREATE UNIQUE INDEX meeting_cases_one_open_meeting ON meeting_cases (case_id) WHERE open;

-- Every drawn expert (members and reserves) as they were when drawn.
CREATE TABLE meeting_members (
    meeting_id      uuid NOT NULL REFERENCES meetings (id),
    expert_id       uuid NOT NULL REFERENCES experts (id),
    drawn_rank      int NOT NULL,       -- from 1, in drawn order
    drawn_as        text NOT NULL CHECK (drawn_as IN ('member', 'reserve')),
    seated          boolean NOT NULL,
    declined_at     timestamptz,
    decline_reason  text,
    replaces        uuid,               -- a seated reserve: the member they replaced
    present         boolean,            -- attendance, taken when the vote opens
    to_vote         int,                -- cases they vote on, fixed when the vote opens
    voted           int NOT NULL DEFAULT 0,  -- how many of them they have voted on (not how)
    name            text NOT NULL,
    id_number       text NOT NULL,
    mobile          text NOT NULL,
    unit_id         uuid,
    unit_name       text NOT NULL,
    series_id       text NOT NULL,
    speciality      text NOT NULL,
    title_level     text NOT NULL,
    PRIMARY KEY (meeting_id, expert_id),
    UNIQUE (meeting_id, drawn_rank)
);
CREATE INDEX meeting_members_id_number ON meeting_members (id_number);

-- Conflicts of interest with one applicant, declared by the expert or recorded by the
-- secretary, per library entry and case (they hold for any meeting of that case).
CREATE TABLE expert_conflicts (
    expert_id    uuid NOT NULL REFERENCES experts (id),
    case_id      uuid NOT NULL REFERENCES cases (id),
    reason       text NOT NULL,
    declared_by  text NOT NULL,
    declared_at  timestamptz NOT NULL,
    PRIMARY KEY (expert_id, case_id)
);

-- Who does not vote on which case, and why: fixed when the vote opens.
CREATE TABLE meeting_exclusions (
    meeting_id  uuid NOT NULL,
    case_id     uuid NOT NULL,
    expert_id   uuid NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('same_unit', 'declared', 'not_qualified')),
    PRIMARY KEY (meeting_id, case_id, expert_id),
    FOREIGN KEY (meeting_id, case_id) REFERENCES meeting_cases (meeting_id, case_id),
    FOREIGN KEY (meeting_id, expert_id) REFERENCES meeting_members (meeting_id, expert_id)
);

-- The has-voted mark: that this expert voted on this case, not how, and not when (a time
-- beside the counts' changes would let a watcher of the database pair them). The primary key
-- makes a second vote impossible, however many arrive at once.
CREATE TABLE meeting_votes_cast (
    meeting_id  uuid NOT NULL,
    case_id     uuid NOT NULL,
    expert_id   uuid NOT NULL,
    PRIMARY KEY (meeting_id, case_id, expert_id),
    FOREIGN KEY (meeting_id, case_id) REFERENCES meeting_cases (meeting_id, case_id),
    FOREIGN KEY (meeting_id, expert_id) REFERENCES meeting_members (meeting_id, expert_id)
);
