"""Personal data at rest: ID numbers and mobiles sealed with AES-GCM, found by a blind index.

A sealed value is a text token, "pd1.<key id>.<base64url of nonce + ciphertext + tag>", kept
in the column that held the plain value. The key id names the key it was sealed with, so
several keys can be live at once: the first key of `ZC_PERSONAL_DATA_KEYS` seals, every key
listed opens. Rotating is adding a new key in front, then `python -m tools.personal_data
rotate`, which re-seals every value under the new key; the old key can go once `status` shows
no value left under it.

The column's label ("accounts.users.mobile") is the associated data of the seal: a token
copied into another column does not open there. Values in transit inside events are sealed
with the label TRANSIT: a message at rest in the broker or the dead-letter table is sealed too.

Where the system must find a row by the value (sign-in by mobile, one account per ID number,
a 失信 check by ID number) it looks up a blind index: HMAC-SHA256 under a key of its own
(`ZC_BLIND_INDEX_KEY`), over the kind of value and the value, never the value itself.

The defaults are development keys, written here for anyone to read: with `ZC_PRODUCTION` on,
a service refuses to start with them (`check_production_keys`, before its migrations).
The design, and what is sealed where: docs/personal-data.md.
"""

import base64
import binascii
import hashlib
import hmac
import itertools
import operator
import os
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "pd1"
TRANSIT = "transit"  # the label of values sealed inside events
NONCE_BYTES = 12


def _dev_key(name: str) -> str:
    return base64.urlsafe_b64encode(
        hashlib.sha256(f"zhicheng dev {name}".encode()).digest()
    ).decode()


DEV_DATA_KEYS = f"dev1={_dev_key('data key 1')}"
DEV_BLIND_INDEX_KEY = _dev_key("blind index key")


class PersonalDataSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    personal_data_keys: str = Field(
        DEV_DATA_KEYS,
        description="Keys that seal ID numbers and mobiles at rest: id=base64url(32 bytes),"
        " comma-separated; the first seals, all open. Rotate: put a new key first, run"
        " `python -m tools.personal_data rotate`. The default is a development key.",
    )
    blind_index_key: str = Field(
        DEV_BLIND_INDEX_KEY,
        description="Key of the blind index (HMAC-SHA256) by which sealed values are looked"
        " up: base64url of 32 bytes. The default is a development key.",
    )
    production: bool = Field(
        False,
        description="Real people's data: every service refuses to start with the development"
        " keys of ZC_PERSONAL_DATA_KEYS and ZC_BLIND_INDEX_KEY.",
    )


class PersonalDataError(ValueError):
    """A token that is not ours, names a key we do not hold, or does not open."""


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise PersonalDataError(f"{what}: not base64url") from exc
    if len(key) != 32:
        raise PersonalDataError(f"{what}: {len(key)} bytes, a key is 32 (AES-256)")
    return key


def parse_keys(text: str) -> dict[str, bytes]:
    """'k2=…,k1=…' → {'k2': key, 'k1': key}, in that order (the first seals)."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key_id, sep, encoded = part.partition("=")
        key_id = key_id.strip()
        if not sep or not key_id.isalnum():
            raise PersonalDataError(f"personal data key {part[:8]!r}…: write it as id=base64url")
        if key_id in keys:
            raise PersonalDataError(f"personal data key id {key_id} is listed twice")
        keys[key_id] = _decode_key(encoded, f"personal data key {key_id}")
    if not keys:
        raise PersonalDataError("no personal data key is set (ZC_PERSONAL_DATA_KEYS)")
    return keys


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    blind_index_key: bytes
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # made once: a list page opens dozens of values
        object.__setattr__(self, "_ciphers", {k: AESGCM(v) for k, v in self.keys.items()})

    @property
    def current(self) -> str:
        return next(iter(self.keys))

    def seal(self, value: str | None, label: str) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, value.encode(), label.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}.{self.current}.{body}"

    def open(self, token: str | None, label: str) -> str | None:
        if token is None:
            return None
        parts = token.split(".", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise PersonalDataError("not a sealed value")
        return self._open(parts[1], parts[2], label)

    def open_if_sealed(self, value: str | None, label: str) -> str | None:
        """The plain value of a token; a value that is not one (empty, or written before
        sealing) as it is. One split and one base64 pass: an export opens 200,000 a file."""
        if not value or not value.startswith(_PREFIX_DOT):
            return value
        parts = value.split(".", 2)
        return value if len(parts) != 3 else self._open(parts[1], parts[2], label)

    def open_all(self, tokens: list[bytes], label: str) -> list[str | None]:
        """open_if_sealed of each value, given as UTF-8 (an export's COPY text), in one call:
        an export opens 200,000 a file, where a call per value cost as much as the decryption
        itself. An empty value is None."""
        opened = self._open_column(tokens, label)
        if opened is None:
            return [self.open_if_sealed(token.decode(), label) or None for token in tokens]
        return opened

    def _open_column(self, tokens: list[bytes], label: str) -> list[str] | None:
        """Every token sealed under the current key (as nearly always): opened with no Python
        run a value, the tokens' bodies decoded from one joined text and decrypted through
        `map`. None where a token is not such (another key's, a plain or empty value)."""
        head = f"{PREFIX}.{self.current}.".encode()  # "." is not in a body: no false count
        joined = b"\n".join(tokens)
        if not tokens or joined.count(head) != len(tokens) or b"\n\n" in joined:
            return None
        # base64url without its padding: padded generously, every body in one pass (the
        # decoder stops at the first "=")
        padded = joined.replace(head, b"").translate(_URLSAFE).replace(b"\n", b"==\n") + b"=="
        decrypt, aad = self._ciphers[self.current].decrypt, label.encode()
        try:
            raws = list(map(binascii.a2b_base64, padded.split(b"\n")))
            plain = map(decrypt, map(_NONCE, raws), map(_SEALED, raws), itertools.repeat(aad))
            return list(map(bytes.decode, plain))
        except (InvalidTag, ValueError) as exc:
            raise PersonalDataError(f"a value sealed for {label} does not open") from exc

    def _open(self, key_id: str, body: str, label: str) -> str:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PersonalDataError(f"sealed with key {key_id}, which is not in the keyring")
        try:
            # base64url without its padding: mapped to the standard alphabet, padded generously
            # (the decoder stops at the first "=")
            raw = binascii.a2b_base64(body.encode().translate(_URLSAFE) + b"==")
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], label.encode())
        except (InvalidTag, ValueError) as exc:
            raise PersonalDataError(f"a value sealed for {label} does not open") from exc
        return plain.decode()

    def reseal(self, token: str | None, label: str) -> str | None:
        """The same value under the current key (the token itself if it already is)."""
        if token is None or key_id_of(token) == self.current:
            return token
        return self.seal(self.open(token, label), label)

    def blind(self, value: str | None, kind: str) -> str | None:
        """The blind index of `value` as a `kind` ('id_number', 'mobile'): 32 hex digits."""
        if value is None:
            return None
        normal = value.strip().upper()
        digest = hmac.new(self.blind_index_key, f"{kind}:{normal}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]


_PREFIX_DOT = PREFIX + "."
_NONCE, _SEALED = (
    operator.itemgetter(slice(NONCE_BYTES)),
    operator.itemgetter(slice(NONCE_BYTES, None)),
)
_URLSAFE = bytes.maketrans(b"-_", b"+/")


def is_sealed(value: str | None) -> bool:
    return bool(value) and value.startswith(PREFIX + ".") and value.count(".") >= 2


def key_id_of(token: str) -> str:
    if not is_sealed(token):
        raise PersonalDataError("not a sealed value")
    return token.split(".", 2)[1]


def keyring_from(settings: PersonalDataSettings) -> Keyring:
    return Keyring(
        keys=parse_keys(settings.personal_data_keys),
        blind_index_key=_decode_key(settings.blind_index_key, "blind index key"),
    )


@lru_cache
def keyring() -> Keyring:
    """The process's keyring, from the environment."""
    return keyring_from(PersonalDataSettings())


def check_production_keys(settings: PersonalDataSettings | None = None) -> None:
    """Refuse to serve real people's data under the development keys everyone can read."""
    settings = settings or PersonalDataSettings()
    if not settings.production:
        return
    dev_keys = set(parse_keys(DEV_DATA_KEYS).values())
    if dev_keys & set(parse_keys(settings.personal_data_keys).values()):
        raise PersonalDataError("ZC_PRODUCTION: ZC_PERSONAL_DATA_KEYS holds the development key")
    if settings.blind_index_key == DEV_BLIND_INDEX_KEY:
        raise PersonalDataError("ZC_PRODUCTION: ZC_BLIND_INDEX_KEY is the development key")


@dataclass(frozen=True)
class SealedColumn:
    """A column (or a key inside a jsonb column) that holds sealed values."""

    table: str
    column: str
    label: str  # the associated data: "<service>.<table>.<field>"
    json_key: str | None = None
    index_column: str | None = None  # the blind index kept beside it, if any
    kind: str | None = None  # what the blind index indexes: 'id_number' or 'mobile'

    @property
    def value_sql(self) -> str:
        if self.json_key:
            return f"{self.column} ->> '{self.json_key}'"
        return self.column

    def set_sql(self, param: str) -> str:
        if self.json_key:
            path = "{" + self.json_key + "}"
            return f"{self.column} = jsonb_set({self.column}, '{path}', to_jsonb({param}::text))"
        return f"{self.column} = {param}"


async def count_by_key(conn, column: SealedColumn) -> dict[str, int]:
    """How many values of the column each key sealed ('plain' for values not sealed)."""
    rows = await conn.fetch(
        f"SELECT CASE WHEN v LIKE '{PREFIX}.%' THEN split_part(v, '.', 2) ELSE 'plain' END AS key,"
        f" count(*) AS n FROM (SELECT {column.value_sql} AS v FROM {column.table}) s"
        " WHERE v IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
    return {r["key"]: r["n"] for r in rows}


async def _rewrite(conn, column: SealedColumn, where: str, change, batch: int) -> int:
    """Rewrite the values `where` selects with `change(value)`, a batch per transaction."""
    done = 0
    while True:
        async with conn.transaction():
            rows = await conn.fetch(
                f"SELECT ctid, {column.value_sql} AS v FROM {column.table}"
                f" WHERE {column.value_sql} IS NOT NULL AND {where} LIMIT {batch} FOR UPDATE"
            )
            for row in rows:
                value, index = change(row["v"])
                sets = [column.set_sql("$1")]
                args = [value, row["ctid"]]
                if column.index_column and index is not None:
                    sets.append(f"{column.index_column} = $3")
                    args.append(index)
                await conn.execute(
                    f"UPDATE {column.table} SET {', '.join(sets)} WHERE ctid = $2", *args
                )
        done += len(rows)
        if len(rows) < batch:
            return done


async def seal_plain(conn, ring: Keyring, column: SealedColumn, batch: int = 1000) -> int:
    """Seal the values still in the clear (a migration's step), filling the blind index."""
    return await _rewrite(
        conn,
        column,
        f"{column.value_sql} NOT LIKE '{PREFIX}.%'",
        lambda v: (ring.seal(v, column.label), ring.blind(v, column.kind or "")),
        batch,
    )


async def reseal(conn, ring: Keyring, column: SealedColumn, batch: int = 1000) -> int:
    """Re-seal under the current key every value sealed under another: key rotation."""
    current = f"{PREFIX}.{ring.current}.%"
    return await _rewrite(
        conn,
        column,
        f"{column.value_sql} NOT LIKE '{current}'",
        lambda v: (
            ring.reseal(v, column.label) if is_sealed(v) else ring.seal(v, column.label),
            None,
        ),
        batch,
    )
