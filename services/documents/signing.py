"""The key and certificate that sign the 职称电子证书 PDFs (PAdES, pyHanko), and the
development CA that set-up makes when none is configured.

Production points ZC_SIGNING_KEY_FILE, ZC_SIGNING_CERT_FILE and ZC_SIGNING_CHAIN_FILES at the
files its CA issued (docs/certificates.md); left empty, they are the development files under
<ZC_VAR_DIR>/signing/, which `python -m tools.setup` (so `make run`) writes once: a
self-signed CA and a signing certificate it issued. Keys are never committed (.gitignore).
"""

import datetime
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

DEV_FOLDER = "signing"
DEV_KEY, DEV_CERT, DEV_CA = "signer.key", "signer.pem", "ca.pem"
DEV_ORGANISATION = "深圳市专业技术资格评审申报系统（开发环境，不可信）"


class CertificateSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    public_base_url: str = Field(
        "http://127.0.0.1:8080",
        description="The site's public address: the e-certificates' QR codes link to"
        " <this>/verify?no=…&code=…, and print <this>/verify.",
    )
    signing_key_file: str = Field(
        "",
        description="PEM private key that signs the e-certificates (PAdES); empty: the"
        " development key <ZC_VAR_DIR>/signing/signer.key that tools.setup makes.",
    )
    signing_cert_file: str = Field(
        "", description="PEM certificate of that key; empty: the development one."
    )
    signing_chain_files: str = Field(
        "",
        description="PEM certificates of the issuing CAs, comma-separated, embedded in every"
        " signature; empty: the development CA.",
    )
    signing_key_passphrase_file: str = Field(
        "", description="A file holding the key's passphrase, if it has one."
    )

    @property
    def configured(self) -> bool:
        return bool(self.signing_key_file)

    def keys(self, var_dir: str) -> "SigningKeys":
        if not self.configured:
            return development_keys(var_dir)
        chain = tuple(p.strip() for p in self.signing_chain_files.split(",") if p.strip())
        return SigningKeys(
            self.signing_key_file,
            self.signing_cert_file,
            chain,
            self.signing_key_passphrase_file or None,
        )


@dataclass(frozen=True)
class SigningKeys:
    """Where the signing key and its certificates are: passed to the render workers, which
    read the files themselves (the key never crosses a pipe)."""

    key_file: str
    cert_file: str
    chain_files: tuple[str, ...] = ()
    passphrase_file: str | None = None

    def missing(self) -> list[str]:
        files = (self.key_file, self.cert_file, *self.chain_files)
        extra = (self.passphrase_file,) if self.passphrase_file else ()
        return [f for f in (*files, *extra) if not os.path.isfile(f)]

    def passphrase(self) -> bytes | None:
        if not self.passphrase_file:
            return None
        return Path(self.passphrase_file).read_bytes().rstrip(b"\r\n")


def certificate_subject(cert_file: str) -> str:
    """Who signs, as the signing certificate names them (CN=…,O=…,C=CN)."""
    cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    return cert.subject.rfc4514_string()


def development_keys(var_dir: str) -> SigningKeys:
    folder = Path(var_dir) / DEV_FOLDER
    return SigningKeys(str(folder / DEV_KEY), str(folder / DEV_CERT), (str(folder / DEV_CA),))


def check_keys(settings: CertificateSettings, var_dir: str) -> SigningKeys:
    """The keys to sign with. Configured files that are missing stop the start; missing
    development files only warn (certificates cannot be made until tools.setup ran)."""
    keys = settings.keys(var_dir)
    missing = keys.missing()
    if missing and settings.configured:
        raise RuntimeError(f"ZC_SIGNING_*: no such file: {', '.join(missing)}")
    if missing:
        log.warning(
            "no e-certificate signing key (%s): run python -m tools.setup for a development"
            " key, or set ZC_SIGNING_KEY_FILE and its certificates",
            ", ".join(missing),
        )
    return keys


# --- the development CA ---


def ensure_development_keys(var_dir: str) -> SigningKeys:
    """The development key and certificates under <var_dir>/signing/, made if missing."""
    keys = development_keys(var_dir)
    if not keys.missing():
        return keys
    folder = Path(keys.key_file).parent
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _new_ca()
    key, cert = _new_signer(ca_key, ca_cert)
    _write(Path(keys.key_file), _pem_key(key), private=True)
    _write(Path(keys.cert_file), cert.public_bytes(serialization.Encoding.PEM))
    _write(Path(keys.chain_files[0]), ca_cert.public_bytes(serialization.Encoding.PEM))
    log.info("made a development signing CA and key in %s", folder)
    return keys


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(**allowed: bool) -> x509.KeyUsage:
    names = (
        "digital_signature content_commitment key_encipherment data_encipherment"
        " key_agreement key_cert_sign crl_sign encipher_only decipher_only"
    ).split()
    return x509.KeyUsage(**{name: allowed.get(name, False) for name in names})


def _new_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("职称电子证书开发用根证书"))
        .issuer_name(_name("职称电子证书开发用根证书"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _new_signer(ca_key, ca_cert: x509.Certificate):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("职称电子证书签章（开发环境）"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, private: bool = False) -> None:
    # A key is created readable by its owner only, never briefly by everyone.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(os.open(path, flags, 0o600 if private else 0o644), "wb") as out:
        out.write(data)
