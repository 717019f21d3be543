-- Mobiles at rest are sealed (services/notify/sealed.py, shared/personal_data.py). Nothing
-- in notify finds a delivery by its mobile (the per-number limits are accounts'), so there is
-- no blind index; the sysadmin's list opens and masks the few it shows. These checks keep a
-- plain number from being written again; NOT VALID until 006 has sealed the older rows.
ALTER TABLE deliveries ADD CONSTRAINT deliveries_mobile_sealed
    CHECK (mobile LIKE 'pd1.%') NOT VALID;
ALTER TABLE provider_sends ADD CONSTRAINT provider_sends_mobile_sealed
    CHECK (mobile LIKE 'pd1.%') NOT VALID;
