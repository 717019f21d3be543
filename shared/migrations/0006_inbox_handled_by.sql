-- Which process handled each message (host:pid, shared/processes.identity): with several
-- copies of a service, the copy an event went to. Rows from before are left empty.
ALTER TABLE inbox ADD COLUMN handled_by text;
