"""What accounts writes to its audit trail (shared/audit.py, docs/audit.md): sign-ins and
failed ones, sign-outs and ended sessions, and every change to an account, each in the
transaction of the change.

A wrong username is not recorded as typed: people type their password into the username box
often enough that the trail would keep passwords. It is recorded as an unknown account.
"""

from shared.audit import Entry, record
from shared.rpc import Actor, CallContext


def signed_in_as(user, unit_name: str | None, ctx: CallContext, client_ip: str, session_id=None):
    """The actor a sign-in is recorded as: the person who signed in, from where."""
    return Actor(
        user_id=user["id"],
        role=user["role"],
        unit_id=user["unit_id"],
        org_id=user["org_id"],
        name=user["name"] or "",
        username=user["username"],
        organisation=unit_name or user["org_name"] or "",
        session_id=session_id,
        client_address=client_ip or ctx.actor.client_address,
    )


def account(user, action: str, **details) -> Entry:
    """An entry about one account (a users row)."""
    return Entry(action, "user", user["id"], user["username"], details=details)


async def signed_in(conn, ctx: CallContext, user, unit_name, client_ip: str, session_id) -> None:
    actor = signed_in_as(user, unit_name, ctx, client_ip, session_id)
    entry = Entry("auth.login", "session", session_id, user["username"])
    await record(conn, actor, entry, at=ctx.deps.clock.now())


async def new_address(conn, ctx: CallContext, user, unit_name, client_ip: str, session_id) -> None:
    """A sign-in from an address this account has not signed in from lately."""
    actor = signed_in_as(user, unit_name, ctx, client_ip, session_id)
    entry = Entry("auth.new_address", "session", session_id, user["username"])
    await record(conn, actor, entry, at=ctx.deps.clock.now())


async def code_sent(conn, ctx: CallContext, user, client_ip: str, challenge_id) -> None:
    """A login code went to the account's mobile, asked by whoever typed its password."""
    actor = Actor(client_address=client_ip or ctx.actor.client_address)
    entry = account(user, "auth.code_sent", challenge=str(challenge_id))
    await record(conn, actor, entry, at=ctx.deps.clock.now())


async def sign_in_refused(conn, ctx: CallContext, user, client_ip: str, code: str) -> None:
    """A failed sign-in, by whoever typed it (not the account's owner, as far as we know)."""
    actor = Actor(client_address=client_ip or ctx.actor.client_address)
    if user is None:
        entry = Entry("auth.login_failed", "user", details={"known": False})
    else:
        entry = Entry("auth.login_failed", "user", user["id"], user["username"])
    await record(conn, actor, entry.refusal(code), at=ctx.deps.clock.now())


async def changed(conn, ctx: CallContext, *entries: Entry, actor: Actor | None = None) -> None:
    """Account changes by the caller (or `actor`), in the caller's transaction."""
    await record(conn, actor or ctx.actor, *entries, at=ctx.deps.clock.now())
