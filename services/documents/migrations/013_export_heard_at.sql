-- When the attempt building an export was last heard from (claimed, a progress report, a
-- part): the runner gives up on an owner that fell silent (killed mid-build) after
-- ZC_EXPORT_SILENCE_SECONDS instead of waiting out the whole build's time.
ALTER TABLE export_jobs ADD COLUMN heard_at timestamptz;
