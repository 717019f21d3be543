CREATE SEQUENCE case_numbers;

CREATE TABLE cases (
    id                  uuid PRIMARY KEY,
    case_no             text NOT NULL UNIQUE,
    unit_id             uuid NOT NULL,
    applicant_id        uuid NOT NULL,
    applicant_name      text NOT NULL,
    applicant_mobile    text,
    round_id            text NOT NULL REFERENCES rounds (id),
    review_type_id      text NOT NULL REFERENCES review_types (id),
    qualification_id    text NOT NULL REFERENCES qualifications (id),
    committee_id        text NOT NULL REFERENCES committees (id),
    department_id       text NOT NULL REFERENCES departments (id),
    needs_pre_approval  boolean NOT NULL,
    exemptions          text[] NOT NULL DEFAULT '{}',
    state               text NOT NULL,
    outcome             text,
    version             int NOT NULL DEFAULT 0,
    last_action         text,
    last_reason         text,
    status_label        text NOT NULL,
    unit_approval       jsonb,
    pre_publicity       jsonb,
    post_publicity      jsonb,
    form_printed_at     timestamptz,
    -- set once a reviewer organisation has had the case: from then on it may see it
    reached_department  boolean NOT NULL DEFAULT false,
    reached_office      boolean NOT NULL DEFAULT false,
    reached_committee   boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX cases_unit_state ON cases (unit_id, state);
CREATE INDEX cases_department_state ON cases (department_id, state) WHERE reached_department;
CREATE INDEX cases_committee_state ON cases (committee_id, state) WHERE reached_committee;
CREATE INDEX cases_office_state ON cases (state) WHERE reached_office;
CREATE INDEX cases_applicant ON cases (applicant_id, created_at);

-- The applicant's materials, one row per form section, saved section by section.
CREATE TABLE case_sections (
    case_id     uuid NOT NULL REFERENCES cases (id),
    section     text NOT NULL,
    data        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (case_id, section)
);

-- Scans: the bytes live in the documents service; this is the case's list of them.
CREATE TABLE case_attachments (
    id            uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id),
    category      text NOT NULL,
    file_id       uuid NOT NULL,
    filename      text NOT NULL,
    content_type  text NOT NULL,
    size_bytes    int NOT NULL,
    checksum      text NOT NULL,
    uploaded_by   uuid,
    uploaded_at   timestamptz NOT NULL,
    removed_at    timestamptz
);
CREATE INDEX case_attachments_case ON case_attachments (case_id) WHERE removed_at IS NULL;

-- Every transition: who, when, from, to, inputs, reason.
CREATE TABLE case_history (
    id            bigserial PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id),
    action        text NOT NULL,
    actor_id      uuid,
    actor_role    text NOT NULL,
    from_state    text NOT NULL,
    to_state      text NOT NULL,
    outcome       text,
    status_label  text NOT NULL,
    inputs        jsonb NOT NULL,
    reason        text,
    at            timestamptz NOT NULL
);
CREATE INDEX case_history_case ON case_history (case_id, id);

-- What each party has done to a case, for the 已办业务 lists (step = a list of theirs).
CREATE TABLE case_done (
    case_id   uuid NOT NULL REFERENCES cases (id),
    party_id  text NOT NULL,     -- the unit id, or the department / office / committee code
    list      text NOT NULL,     -- e.g. unit:3, department:acceptance, committee:review
    at        timestamptz NOT NULL,
    PRIMARY KEY (case_id, party_id, list)
);
CREATE INDEX case_done_list ON case_done (party_id, list, at DESC);
