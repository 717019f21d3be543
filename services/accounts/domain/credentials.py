"""Passwords (argon2id) and one-time codes (CSPRNG, stored as keyed hashes)."""

import asyncio
import hashlib
import hmac
import os
import secrets
import string
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's recommended cost
# argon2-cffi releases the GIL and each hash already runs `parallelism` (4) lanes in threads
# of its own, so one hash per core is all the CPU there is; more at once only adds waiting
# and cache misses. A pool of its own also keeps asyncio's default executor free.
_ARGON2 = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="argon2")
# Verifying against this keeps a login for an unknown user as slow as for a known one.
_DUMMY_HASH = _hasher.hash("no such user: constant-time padding")


def generate_password() -> str:
    """Random, and always within the rules: 10 chars with a digit, an upper and a lower."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(10))
        if (
            any(c.isdigit() for c in candidate)
            and any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
        ):
            return candidate


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """Verify off the event loop: argon2 takes tens of milliseconds of CPU on purpose."""
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(
        _ARGON2, verify_password, password_hash or _DUMMY_HASH, password
    )
    return ok and password_hash is not None


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_ARGON2, hash_password, password)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def is_argon2_hash(value: str) -> bool:
    return value.startswith(("$argon2id$", "$argon2i$", "$argon2d$"))


def new_sms_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def new_captcha_text(length: int = 4) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I look-alikes
    return "".join(secrets.choice(alphabet) for _ in range(length))


def keyed_hash(key: str, *parts: str) -> str:
    """HMAC-SHA256 of the parts: a 6-digit code is useless to whoever reads the table."""
    message = "\x1f".join(parts).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
