-- PDFs, JPEGs and PNGs are compressed already: PostgreSQL's own compression of these columns
-- costs CPU on every insert and never shrinks them (measured by bench/printing: 0.74 s vs
-- 0.14-0.28 s of PostgreSQL CPU to store the 200 parts of a batch). Keep them out of line as
-- they are.
ALTER TABLE rendered_documents ALTER COLUMN pdf SET STORAGE EXTERNAL;
ALTER TABLE files ALTER COLUMN content SET STORAGE EXTERNAL;
