"""Seal the ID numbers and mobiles stored in the clear, filling their blind indexes; and the
numbers inside events still waiting in the outbox, sealed for transit as new ones are."""

from services.accounts.sealed import COLUMNS
from shared.personal_data import TRANSIT, is_sealed, keyring, seal_plain

EVENT_FIELDS = ("id_number", "mobile")


async def apply(conn) -> None:
    ring = keyring()
    for column in COLUMNS:
        await seal_plain(conn, ring, column)
    for field in EVENT_FIELDS:
        await _seal_outbox(conn, ring, field)


async def _seal_outbox(conn, ring, field: str) -> None:
    rows = await conn.fetch(
        f"SELECT seq, envelope -> 'payload' ->> '{field}' AS v FROM outbox"
        f" WHERE routing_key LIKE 'accounts.%' AND envelope -> 'payload' ->> '{field}' IS NOT NULL"
    )
    for row in rows:
        if is_sealed(row["v"]):
            continue
        await conn.execute(
            f"UPDATE outbox SET envelope = jsonb_set(envelope, '{{payload,{field}}}',"
            " to_jsonb($1::text)) WHERE seq = $2",
            ring.seal(row["v"], TRANSIT),
            row["seq"],
        )
