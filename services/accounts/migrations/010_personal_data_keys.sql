-- Every value is sealed and indexed now (009).
ALTER TABLE sms_codes ALTER COLUMN mobile_index SET NOT NULL;
ALTER TABLE si_enrolments ALTER COLUMN id_number_index SET NOT NULL;
ALTER TABLE si_enrolments ADD PRIMARY KEY (id_number_index, si_unit_no);
