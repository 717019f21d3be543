-- A reviewer's 已办 tab sorted by case number, or by 资格, read in that order from the party's
-- case_done rows (queries.py: DONE_KEYS, _by_qualification): at a million cases a
-- department's first page of 42,789 rows took 28 ms sorting them all, against 0.2-0.5 ms from
-- these. The 资格 one also counts a tab filtered by 资格 without reading the party's other
-- rows. Only the lists of a department, the office and a committee (every list whose party is
-- not a unit: WORK_LISTS), which run to tens of thousands of rows: a unit's run to a few
-- thousand, which sort in a few ms, and a unit's moves (most of them in batches) do not pay
-- for two more index entries each.
CREATE INDEX case_done_numbers ON case_done (party_id, list, case_no)
    WHERE list IN ('department:acceptance', 'department:review', 'department:post_publicity',
                   'department:confirm', 'office:approval', 'committee:review');
CREATE INDEX case_done_qualifications ON case_done (party_id, list, qualification_id, case_id)
    WHERE list IN ('department:acceptance', 'department:review', 'department:post_publicity',
                   'department:confirm', 'office:approval', 'committee:review');
