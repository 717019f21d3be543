"""Who may do what to whom. Tenant isolation lives here, in the service that owns the data."""

import uuid

from services.accounts.personal import opened_user
from shared.rpc import Actor, RpcError

UNIT_ROLES = ("unit_admin", "unit_operator")
REVIEWER_ROLES = ("department", "office", "committee")

# The accounts each role manages (disable, enable, reset the password of, and for unit staff
# also create, list and edit): a unit's admin its operators and applicants, an operator the
# applicants, the city's system administrator the department, office and committee accounts.
# A unit's staff reach only their own unit's people; the sysadmin only accounts of no unit.
MANAGES: dict[str, tuple[str, ...]] = {
    "unit_admin": ("unit_operator", "applicant"),
    "unit_operator": ("applicant",),
    "sysadmin": REVIEWER_ROLES,
}


def forbidden(message: str = "您没有权限进行此操作") -> RpcError:
    return RpcError("forbidden", message, 403)


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
    return target_role in MANAGES.get(actor.role, ())


def managed_roles(actor: Actor, role: str | None = None) -> tuple[str, ...]:
    """The roles the actor may manage, narrowed to `role` when given; refused when none."""
    require_role(actor, *MANAGES)
    if actor.role in UNIT_ROLES and actor.unit_id is None:
        raise forbidden()
    roles = MANAGES[actor.role]
    if role is not None:
        if role not in roles:
            raise forbidden()
        roles = (role,)
    return roles


async def fetch_managed_user(conn, actor: Actor, user_id: uuid.UUID, role: str | None = None):
    """The user, locked, if the actor may manage them (of `role`, when given); else 404.

    The scope is the actor's unit for a unit's staff, and no unit at all for the sysadmin.
    Nobody manages their own account here (that is the change-password page's work).
    """
    roles = managed_roles(actor, role)
    if user_id == actor.user_id:
        raise forbidden("不能停用或重置自己的账户")
    row = await conn.fetchrow(
        "SELECT * FROM users WHERE id = $1 AND role = ANY($2::text[])"
        " AND unit_id IS NOT DISTINCT FROM $3 FOR UPDATE",
        user_id,
        list(roles),
        actor.unit_id if actor.role in UNIT_ROLES else None,
    )
    if row is None:
        raise not_found()  # another unit's user looks the same as no user at all
    return row


async def own_account_with_mobile(conn, actor: Actor):
    """The caller's own account, when they may change its mobile here: one with a mobile on
    record, and not the admin of a talent-system unit (that system sends the mobile with every
    update of the unit, so a change made here would not last)."""
    if actor.user_id is None:
        raise RpcError("unauthenticated", "请先登录", 401)
    row = await conn.fetchrow(
        "SELECT u.*, n.source AS unit_source FROM users u LEFT JOIN units n ON n.id = u.unit_id"
        " WHERE u.id = $1",
        actor.user_id,
    )
    if row is None:
        raise RpcError("unauthenticated", "请先登录", 401)
    row = opened_user(row)
    if not row["mobile"]:
        raise RpcError("no_mobile", "您的账户未登记手机号码，请联系管理员登记", 409)
    if row["role"] == "unit_admin" and row["unit_source"] == "talent":
        raise RpcError("managed_elsewhere", "您的手机号码由人才引进系统管理，请在该系统中修改", 409)
    return row
