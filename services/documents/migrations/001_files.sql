-- Uploaded scans. Each belongs to a case; who may read it is the cases service's answer.
CREATE TABLE files (
    id            uuid PRIMARY KEY,
    case_id       uuid NOT NULL,
    category      text NOT NULL,
    filename      text NOT NULL,
    content_type  text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg',
                                                       'image/png')),
    size_bytes    int NOT NULL CHECK (size_bytes > 0),
    checksum      text NOT NULL,                 -- sha256, hex
    content       bytea NOT NULL,
    uploaded_by   uuid,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_case ON files (case_id);
