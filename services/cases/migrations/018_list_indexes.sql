-- The work lists and home counts at a million cases (issue 18, docs/performance.md "A million
-- cases"). Each party's cases by state in the lists' default order (最近办理: updated_at DESC,
-- id), carrying every other column a list filters or sorts on and the step time limit's
-- state_since: a count, a filter, a sort or a deep page reads the index alone (an index-only
-- scan), and a page reads the table for its own rows only (queries.py). They replace the
-- (party, state) indexes of 002, which are their prefixes.
DROP INDEX cases_unit_state;
DROP INDEX cases_department_state;
DROP INDEX cases_committee_state;
DROP INDEX cases_office_state;

CREATE INDEX cases_unit_list ON cases (unit_id, state, updated_at DESC, id)
    INCLUDE (state_since, applicant_name, case_no, review_type_id, qualification_id,
             department_id, committee_id, round_id);
CREATE INDEX cases_department_list ON cases (department_id, state, updated_at DESC, id)
    INCLUDE (state_since, applicant_name, case_no, review_type_id, qualification_id,
             committee_id, round_id)
    WHERE reached_department;
CREATE INDEX cases_committee_list ON cases (committee_id, state, updated_at DESC, id)
    INCLUDE (state_since, applicant_name, case_no, review_type_id, qualification_id,
             department_id, round_id)
    WHERE reached_committee;
CREATE INDEX cases_office_list ON cases (state, updated_at DESC, id)
    INCLUDE (state_since, applicant_name, case_no, review_type_id, qualification_id,
             department_id, committee_id, round_id)
    WHERE reached_office;

-- A party's 已办 list newest first with its cases (ties by case, as the list orders them):
-- counted and paged from the index alone.
DROP INDEX case_done_list;
CREATE INDEX case_done_list ON case_done (party_id, list, at DESC, case_id);

-- party_id and list go together (a list key belongs to one kind of party, and an office's or
-- a committee's rows are a few of the table's): without this the planner takes their
-- selectivities as independent, expects 150 rows of a list that has 22,000, and counts it
-- with a lookup per row instead of one hash join.
CREATE STATISTICS case_done_party_list (mcv, dependencies) ON party_id, list FROM case_done;
ANALYZE case_done;
