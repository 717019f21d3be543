-- Rendered PDFs, named by what they were rendered from. A document of one snapshot has
-- input_checksum = sha256(kind, template version, canonical snapshot JSON); a combined PDF
-- (a printed selection) has the checksum of its parts' checksums in order, and part_ids.
-- Printing the same input again finds the stored row instead of rendering.
CREATE TABLE rendered_documents (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL,
    input_checksum  text NOT NULL,
    title           text NOT NULL,
    case_ids        uuid[] NOT NULL,                -- a reader must be allowed to see each
    part_ids        uuid[] NOT NULL DEFAULT '{}',   -- a combined PDF: its parts, in order
    pages           int NOT NULL CHECK (pages > 0),
    size_bytes      int NOT NULL CHECK (size_bytes > 0),
    sha256          text NOT NULL,                  -- of the PDF bytes, hex
    pdf             bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, input_checksum)
);
