-- A 已办 tab sorted by case number, or by 资格, read in that order from the party's case_done
-- rows (queries.py: DONE_KEYS, _by_qualification): at a million cases a department's first
-- page of 42,789 rows took 28 ms sorting them all, against 0.2-0.5 ms from these. The 资格
-- one also counts a tab filtered by 资格 without reading the party's other rows.
CREATE INDEX case_done_numbers ON case_done (party_id, list, case_no);
CREATE INDEX case_done_qualifications ON case_done (party_id, list, qualification_id, case_id);
