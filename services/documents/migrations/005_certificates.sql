-- The signed PDF of each 职称电子证书 (docs/certificates.md), made once: a signature carries
-- its signing time, so a second rendering would be another file. Who may read it is the
-- cases service's answer for its case (certificate.get).
CREATE TABLE certificate_documents (
    certificate_no  text PRIMARY KEY,
    certificate_id  uuid NOT NULL UNIQUE,
    case_id         uuid NOT NULL UNIQUE,
    holder_name     text NOT NULL,
    pages           int NOT NULL CHECK (pages > 0),
    size_bytes      int NOT NULL CHECK (size_bytes > 0),
    sha256          text NOT NULL,             -- of the signed PDF's bytes, hex
    signed_by       text NOT NULL,             -- the signing certificate's subject
    pdf             bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE certificate_documents ALTER COLUMN pdf SET STORAGE EXTERNAL;
