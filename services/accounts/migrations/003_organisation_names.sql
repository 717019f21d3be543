-- When a reviewer account's organisation name was last set: a rename event older than that
-- (delivered late, or again) leaves the newer name alone.
ALTER TABLE users ADD COLUMN org_named_at timestamptz;
UPDATE users SET org_named_at = created_at WHERE org_id IS NOT NULL;
