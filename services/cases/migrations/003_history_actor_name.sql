-- Who acted, by name as well as by role: the case history is read by people.
ALTER TABLE case_history ADD COLUMN actor_name text NOT NULL DEFAULT '';
