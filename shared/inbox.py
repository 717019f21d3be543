"""Inbox: a consumer records each handled message id in the transaction of its effects."""

import uuid

from shared import metrics
from shared.db import sql_literal
from shared.processes import identity


def record_delivery(message_id: uuid.UUID, consumer: str) -> str:
    """The statement that records this message as handled by `consumer`, to open the
    transaction of its effects with (shared/db.transaction_begun_with: one round trip for
    BEGIN and this). Its status says whether this is the first delivery (`first_delivery`).

    A concurrent duplicate (another copy of the service got it too) blocks on the primary key
    until the first commits, then sees it. The row names the process that handled it.
    """
    return (
        "INSERT INTO inbox (message_id, consumer, handled_by) VALUES"
        f" ({sql_literal(str(message_id))}::uuid, {sql_literal(consumer)},"
        f" {sql_literal(identity())}) ON CONFLICT DO NOTHING"
    )


def first_delivery(status: str, consumer: str) -> bool:
    """True when `record_delivery`'s status says the row went in: the consumer has not
    handled the message before."""
    if status == "INSERT 0 1":
        return True
    metrics.count(metrics.INBOX_DUPLICATES, consumer)
    return False
