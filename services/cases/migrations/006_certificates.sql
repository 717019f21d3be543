-- 职称电子证书 (docs/certificates.md): issued in the transaction of the department's
-- 确认办结 of a passed case, so a certificate exists exactly when the confirmation does.

-- The committee's code in certificate numbers, fixed at its first certificate.
CREATE SEQUENCE certificate_committee_codes;
CREATE TABLE certificate_committees (
    committee_id  text PRIMARY KEY REFERENCES committees (id),
    code          int NOT NULL UNIQUE
);

-- The last serial issued per committee and year. The row is updated in the confirmation's
-- transaction: its lock orders concurrent confirmations, and a rollback takes the serial
-- back with it, so the serials have no gaps (a sequence would leave them).
CREATE TABLE certificate_counters (
    committee_id  text NOT NULL REFERENCES committees (id),
    year          int NOT NULL,
    last_serial   int NOT NULL CHECK (last_serial > 0),
    PRIMARY KEY (committee_id, year)
);

-- What is printed is kept as it was on the day of issue: a committee renamed later does not
-- rename the certificates it issued.
CREATE TABLE certificates (
    id                 uuid PRIMARY KEY,
    certificate_no     text NOT NULL UNIQUE,
    case_id            uuid NOT NULL UNIQUE REFERENCES cases (id),  -- one per case, ever
    committee_id       text NOT NULL REFERENCES committees (id),
    year               int NOT NULL,
    serial             int NOT NULL,
    verification_code  text NOT NULL,
    holder_name        text NOT NULL,
    id_number          text NOT NULL,
    qualification      text NOT NULL,
    series             text NOT NULL,
    level              text NOT NULL,
    committee          text NOT NULL,
    department         text NOT NULL,
    passed_on          date NOT NULL,
    issued_on          date NOT NULL,
    issued_at          timestamptz NOT NULL,
    status             text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    revoked_at         timestamptz,  -- revocation itself comes with part 2 of issue 13
    UNIQUE (committee_id, year, serial)
);

-- Each successful public verification: when, from where, and who if signed in.
CREATE TABLE certificate_queries (
    id              bigserial PRIMARY KEY,
    certificate_id  uuid NOT NULL REFERENCES certificates (id),
    at              timestamptz NOT NULL,
    client_ip       text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('page', 'api')),
    user_id         uuid,
    user_name       text,
    user_role       text
);
CREATE INDEX certificate_queries_certificate ON certificate_queries (certificate_id, at DESC);
