"""Inbox: a consumer records each handled message id in the transaction of its effects."""

import uuid

import asyncpg

from shared import metrics
from shared.processes import identity


async def first_delivery(conn: asyncpg.Connection, message_id: uuid.UUID, consumer: str) -> bool:
    """True when this consumer has not handled the message before (call inside the transaction).

    A concurrent duplicate (another copy of the service got it too) blocks on the primary key
    until the first commits, then sees it. The row names the process that handled it.
    """
    inserted = await conn.fetchval(
        "INSERT INTO inbox (message_id, consumer, handled_by) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        message_id,
        consumer,
        identity(),
    )
    if inserted is None:
        metrics.count(metrics.INBOX_DUPLICATES, consumer)
        return False
    return True
