-- 证书登记簿 (docs/certificates.md): the register lists the certificates in the order they were
-- issued, newest first (or oldest first: the same index read backwards), 20 to a page. With
-- this index its first pages read 20 rows instead of sorting every certificate.
CREATE INDEX certificates_issued ON certificates (issued_at DESC, certificate_no DESC);
