-- 诚信 (docs/integrity.md): the 诚信承诺 applicants accept, objections during publicity,
-- revocation of e-certificates and 失信 records.

-- The 诚信承诺书: the sysadmin publishes a new text as a new version; the highest is in
-- force. A case keeps the version its applicant accepted, when, and from which address.
CREATE TABLE pledge_versions (
    version       int PRIMARY KEY CHECK (version > 0),
    text          text NOT NULL,
    published_at  timestamptz NOT NULL,
    published_by  text NOT NULL
);
INSERT INTO pledge_versions (version, text, published_at, published_by) VALUES (
    1,
    E'本人郑重承诺：\n' ||
    E'一、本人所填报的个人信息、学历资历、工作经历、业绩成果等申报材料及所提交的证明材料均真实、准确、完整，不存在弄虚作假、伪造变造等情形；\n' ||
    E'二、本人遵守职称评审的各项纪律，不以任何方式干扰评审工作；\n' ||
    E'三、如有虚假，本人愿意接受取消评审资格、撤销已取得的职称等处理，并按规定记入职称申报失信记录，记录期内不得申报职称。',
    now(),
    '系统初始版本'
);
ALTER TABLE cases ADD COLUMN pledge jsonb;  -- {version, accepted_at, client_ip}
-- The ID number of the applicant's account when the case was opened: a 失信 bar checks it
-- beside the one in the materials, which the applicant may edit.
ALTER TABLE cases ADD COLUMN applicant_id_number text;

-- 异议: taken in by the unit or the department, or raised by the public during 评后公示.
-- The case row is locked while one is taken in, so seq counts without gaps per case.
CREATE TABLE objections (
    id                uuid PRIMARY KEY,
    case_id           uuid NOT NULL REFERENCES cases (id),
    seq               int NOT NULL,
    phase             text NOT NULL CHECK (phase IN ('pre', 'post')),
    source            text NOT NULL CHECK (source IN ('unit', 'department', 'public')),
    objector_name     text NOT NULL,
    objector_contact  text NOT NULL,
    content           text NOT NULL,
    received_at       timestamptz NOT NULL,
    recorded_by       uuid,
    recorded_by_name  text NOT NULL,
    recorded_by_role  text NOT NULL,
    party_id          text NOT NULL,  -- the unit's id or the department's: who handles it
    client_ip         text,           -- the public's
    finding           text CHECK (finding IN ('upheld', 'dismissed')),
    finding_text      text,
    found_at          timestamptz,
    found_by          uuid,
    found_by_name     text,
    found_by_role     text,
    UNIQUE (case_id, seq),
    CHECK ((finding IS NULL) = (found_at IS NULL))
);
CREATE INDEX objections_open ON objections (case_id) WHERE finding IS NULL;

-- 失信: an ID number barred from declaring from starts_on through last_day.
CREATE TABLE discredits (
    id                uuid PRIMARY KEY,
    id_number         text NOT NULL,
    name              text NOT NULL,
    reason            text NOT NULL,
    starts_on         date NOT NULL,
    years             int NOT NULL CHECK (years BETWEEN 1 AND 10),
    last_day          date NOT NULL CHECK (last_day >= starts_on),
    case_id           uuid REFERENCES cases (id),
    certificate_id    uuid REFERENCES certificates (id),
    department_id     text,
    department        text NOT NULL,
    recorded_at       timestamptz NOT NULL,
    recorded_by       uuid,
    recorded_by_name  text NOT NULL,
    ended_at          timestamptz,
    ended_by          uuid,
    ended_by_name     text,
    end_reason        text
);
CREATE INDEX discredits_running ON discredits (id_number, last_day) WHERE ended_at IS NULL;
CREATE INDEX discredits_recorded ON discredits (recorded_at DESC);

-- Revocation (the status and its time were there from part 1).
ALTER TABLE certificates ADD COLUMN revoked_reason text;
ALTER TABLE certificates ADD COLUMN revoked_by uuid;
ALTER TABLE certificates ADD COLUMN revoked_by_name text;
ALTER TABLE certificates ADD CONSTRAINT certificates_revoked_with_time
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL));
