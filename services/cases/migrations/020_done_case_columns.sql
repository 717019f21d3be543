-- A 已办 tab filtered by 评审类型, 资格, department, committee or round, or sorted by 资格 or
-- case number, read from the party's case_done rows alone as the name already is (019): the
-- join with the cases took 60-120 ms a page for a department's 42,789 rows at a million
-- cases (docs/performance.md). These columns of a case are set when it is opened and never
-- change, so the move that writes a row copies them (repository.py, SAVE_MOVES).
ALTER TABLE case_done
    ADD COLUMN case_no text,
    ADD COLUMN review_type_id text,
    ADD COLUMN qualification_id text,
    ADD COLUMN department_id text,
    ADD COLUMN committee_id text,
    ADD COLUMN round_id text;
UPDATE case_done cd SET case_no = c.case_no, review_type_id = c.review_type_id,
    qualification_id = c.qualification_id, department_id = c.department_id,
    committee_id = c.committee_id, round_id = c.round_id
FROM cases c WHERE c.id = cd.case_id;
ALTER TABLE case_done
    ALTER COLUMN case_no SET NOT NULL,
    ALTER COLUMN review_type_id SET NOT NULL,
    ALTER COLUMN qualification_id SET NOT NULL,
    ALTER COLUMN department_id SET NOT NULL,
    ALTER COLUMN committee_id SET NOT NULL,
    ALTER COLUMN round_id SET NOT NULL;

-- newest first, with all a filter tests (an index-only scan)
DROP INDEX case_done_list;
CREATE INDEX case_done_list ON case_done (party_id, list, at DESC, case_id)
    INCLUDE (applicant_name, case_no, review_type_id, qualification_id, department_id,
             committee_id, round_id);
ANALYZE case_done;
