"""Inbox: a consumer records each handled message id in the transaction of its effects."""

import uuid

import asyncpg


async def first_delivery(conn: asyncpg.Connection, message_id: uuid.UUID, consumer: str) -> bool:
    """True when this consumer has not handled the message before (call inside the transaction).

    A concurrent duplicate blocks on the primary key until the first commits, then sees it.
    """
    inserted = await conn.fetchval(
        "INSERT INTO inbox (message_id, consumer) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        message_id,
        consumer,
    )
    return inserted is not None
