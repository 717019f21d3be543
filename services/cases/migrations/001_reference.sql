-- Reference data, maintained by the system administrator.
CREATE TABLE rounds (
    id                     text PRIMARY KEY,
    name                   text NOT NULL,
    opens_on               date NOT NULL,
    closes_on              date NOT NULL,
    pre_publicity_days     int NOT NULL DEFAULT 5 CHECK (pre_publicity_days >= 1),
    post_publicity_days    int NOT NULL DEFAULT 5 CHECK (post_publicity_days >= 1),
    evaluation_max_length  int NOT NULL DEFAULT 200 CHECK (evaluation_max_length > 0),
    active                 boolean NOT NULL DEFAULT true
);

CREATE TABLE series (
    id        text PRIMARY KEY,
    name      text NOT NULL,
    position  int NOT NULL DEFAULT 0
);

CREATE TABLE qualifications (
    id         text PRIMARY KEY,
    series_id  text NOT NULL REFERENCES series (id),
    name       text NOT NULL,
    level      text NOT NULL CHECK (level IN ('正高', '副高', '中级', '初级')),
    position   int NOT NULL DEFAULT 0
);

CREATE TABLE departments (
    id    text PRIMARY KEY,
    name  text NOT NULL
);

CREATE TABLE committees (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    department_id  text NOT NULL REFERENCES departments (id),
    active         boolean NOT NULL DEFAULT true
);

CREATE TABLE committee_qualifications (
    committee_id      text NOT NULL REFERENCES committees (id),
    qualification_id  text NOT NULL REFERENCES qualifications (id),
    PRIMARY KEY (committee_id, qualification_id)
);

CREATE TABLE review_types (
    id                  text PRIMARY KEY,
    name                text NOT NULL,
    needs_pre_approval  boolean NOT NULL DEFAULT false,
    position            int NOT NULL DEFAULT 0
);
