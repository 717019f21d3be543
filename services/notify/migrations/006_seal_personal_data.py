"""Seal the mobiles written before 005, then hold every row to its check."""

from services.notify.sealed import COLUMNS
from shared.personal_data import keyring, seal_plain


async def apply(conn) -> None:
    for column in COLUMNS:
        await seal_plain(conn, keyring(), column)
        await conn.execute(
            f"ALTER TABLE {column.table} VALIDATE CONSTRAINT {column.table}_mobile_sealed"
        )
