"""Review experts' accounts (评审专家): opened when an expert is first drawn for a meeting
(meeting.drawn, meeting.expert_replaced from the cases service), one per ID number, under the
user id the cases service keeps for that number, so a second draw finds it open.

No password is made up and sent: the account's password is a random value nobody is told.
The expert is texted the username (accounts.expert_account.opened, through the outbox) and
sets a password of their own with a code sent to their mobile (忘记密码), as anybody resets
one. So no password sits in a message, a delivery record or a provider's log.
"""

import logging
import secrets
import uuid

import asyncpg

from services.accounts.domain.credentials import hash_password_async
from services.accounts.personal import for_transit, from_transit, index, sealed_user
from shared.contracts.accounts.events import EXPERT_ACCOUNT_OPENED, ExpertAccountOpened
from shared.contracts.cases.meetings import ExpertReplaced, MeetingDrawn, SeatedExpert
from shared.envelope import Envelope, new_event
from shared.outbox import add_to_outbox

log = logging.getLogger(__name__)

USERNAME_TRIES = 5


async def open_expert_accounts(
    conn: asyncpg.Connection, envelope: Envelope, event: MeetingDrawn | ExpertReplaced
) -> None:
    for expert in event.seated:
        await _open(conn, expert)


async def _open(conn: asyncpg.Connection, expert: SeatedExpert) -> None:
    user_id = uuid.UUID(expert.user_id)
    if await conn.fetchval("SELECT 1 FROM users WHERE id = $1", user_id):
        return  # drawn before: the account is there, with the password they set
    values = {"id_number": from_transit(expert.id_number), "mobile": from_transit(expert.mobile)}
    other = await conn.fetchval(
        "SELECT id FROM users WHERE role = 'expert' AND id_number_index = $1",
        index(values["id_number"], "id_number"),
    )
    if other is not None:
        log.warning("expert account %s already open as %s: kept", expert.expert_id, other)
        return
    username, sealed = await _free_username(conn), sealed_user(values)
    await conn.execute(
        "INSERT INTO users (id, username, password_hash, role, name, id_number, id_number_index,"
        " mobile, mobile_index) VALUES ($1, $2, $3, 'expert', $4, $5, $6, $7, $8)",
        user_id,
        username,
        await hash_password_async(secrets.token_urlsafe(32)),
        expert.name,
        sealed["id_number"],
        sealed["id_number_index"],
        sealed["mobile"],
        sealed["mobile_index"],
    )
    opened = ExpertAccountOpened(
        user_id=str(user_id),
        username=username,
        name=expert.name,
        mobile=for_transit(values["mobile"]),
    )
    await add_to_outbox(conn, new_event(EXPERT_ACCOUNT_OPENED.type, opened, "accounts"))


async def _free_username(conn: asyncpg.Connection) -> str:
    """zj and eight digits: the rule's 6-14 letters and digits, easy to type on a phone."""
    for _ in range(USERNAME_TRIES):
        candidate = f"zj{secrets.randbelow(10**8):08d}"
        if not await conn.fetchval(
            "SELECT 1 FROM users WHERE lower(username) = lower($1)", candidate
        ):
            return candidate
    raise RuntimeError("no free expert username after several tries")
