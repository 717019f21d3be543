"""Seal the ID numbers and mobiles stored in the clear, filling their blind indexes. (The
numbers inside events waiting in the outbox: shared/migrations/0004_seal_outbox.py.)"""

from services.accounts.sealed import COLUMNS
from shared.personal_data import keyring, seal_plain


async def apply(conn) -> None:
    ring = keyring()
    for column in COLUMNS:
        await seal_plain(conn, ring, column)
