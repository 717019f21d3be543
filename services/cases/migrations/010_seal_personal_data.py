"""Seal the ID numbers and mobiles written in the clear before 009, filling the blind indexes."""

from services.cases.sealed import COLUMNS
from shared.personal_data import keyring, seal_plain


async def apply(conn) -> None:
    ring = keyring()
    for column in COLUMNS:
        await seal_plain(conn, ring, column)
