-- Review experts (评审专家) sign in too: an account opened when one is first drawn for a
-- review meeting (the cases service names its id; docs/committee.md). One account per
-- expert ID number; the same person may also hold an account of another kind (an applicant,
-- a unit's admin), so experts keep their own uniqueness of the ID number.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (
    'sysadmin', 'unit_admin', 'unit_operator', 'applicant', 'department', 'office', 'committee',
    'expert'));
DROP INDEX users_id_number;
CREATE UNIQUE INDEX users_id_number ON users (id_number)
    WHERE id_number IS NOT NULL AND role <> 'expert';
CREATE UNIQUE INDEX users_expert_id_number ON users (id_number) WHERE role = 'expert';
