"""Who may do what to whom. Tenant isolation lives here, in the service that owns the data."""

import uuid

from shared.rpc import Actor, RpcError

UNIT_ROLES = ("unit_admin", "unit_operator")
REVIEWER_ROLES = ("department", "office", "committee")


def forbidden() -> RpcError:
    return RpcError("forbidden", "您没有权限进行此操作", 403)


def not_found(what: str = "账户") -> RpcError:
    return RpcError("not_found", f"{what}不存在", 404)


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles or actor.user_id is None:
        raise forbidden()


def require_unit(actor: Actor, *roles: str) -> uuid.UUID:
    """The actor's unit, for a unit role; others are refused."""
    require_role(actor, *roles)
    if actor.unit_id is None:
        raise forbidden()
    return actor.unit_id


def may_manage(actor: Actor, target_role: str) -> bool:
    """Admins manage operators and applicants; operators manage applicants only."""
    if actor.role == "unit_admin":
        return target_role in ("unit_operator", "applicant")
    if actor.role == "unit_operator":
        return target_role == "applicant"
    return False


async def fetch_managed_user(conn, actor: Actor, user_id: uuid.UUID, role: str):
    """The user, if the actor's unit owns them and the actor may manage that role; else 404."""
    unit_id = require_unit(actor, *UNIT_ROLES)
    if not may_manage(actor, role):
        raise forbidden()
    row = await conn.fetchrow(
        "SELECT * FROM users WHERE id = $1 AND unit_id = $2 AND role = $3 FOR UPDATE",
        user_id,
        unit_id,
        role,
    )
    if row is None:
        raise not_found()  # another unit's user looks the same as no user at all
    return row
