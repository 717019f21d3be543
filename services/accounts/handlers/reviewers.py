"""Department, office and committee accounts, created by the system administrator.

Disabling, enabling and resetting their passwords go through users.set_active and
users.set_password, whose access rules (access.MANAGES) give these accounts to the sysadmin.
"""

import uuid

import asyncpg

from services.accounts import trail
from services.accounts.access import require_role
from services.accounts.domain.credentials import hash_password_async
from services.accounts.domain.validation import (
    FieldError,
    validate_mobile,
    validate_name,
    validate_password,
    validate_username,
)
from services.accounts.personal import index, seal
from services.accounts.views import user_view
from shared.audit import command_line, record
from shared.contracts.accounts.rpc import CreateReviewer, ListReviewers
from shared.rpc import CallContext, RpcError

USERNAME_TAKEN = "该用户名已被使用，请换一个"


def _check(params: CreateReviewer) -> tuple[dict, dict]:
    values, errors = {}, {}
    for field, check, label in (
        ("name", validate_name, "联系人姓名"),
        ("username", validate_username, "用户名"),
        ("password", validate_password, "密码"),
        ("mobile", validate_mobile, "手机号码"),
    ):
        try:
            values[field] = check(getattr(params, field), label=label)
        except FieldError as error:
            errors[field] = error.message
    for field, label in (("org_id", "机构编号"), ("org_name", "机构名称")):
        values[field] = getattr(params, field).strip()
        if not values[field]:
            errors[field] = f"请填写{label}"
    return values, errors


async def create_reviewer(params: CreateReviewer, ctx: CallContext) -> dict:
    require_role(ctx.actor, "sysadmin")
    values, errors = _check(params)
    if params.check_only and not errors.get("username"):
        if await ctx.pool.fetchval("SELECT 1 FROM users WHERE username = $1", values["username"]):
            errors["username"] = USERNAME_TAKEN
    if errors:
        raise RpcError("invalid_input", "信息有误，请按提示修改", 422, errors)
    if params.check_only:
        return {"valid": True}
    user_id, password_hash = uuid.uuid4(), await hash_password_async(values["password"])
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO users (id, username, password_hash, role, org_id, org_name, name,"
                " mobile, mobile_index, created_by, org_named_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())",
                user_id,
                values["username"],
                password_hash,
                params.role,
                values["org_id"],
                values["org_name"],
                values["name"],
                seal(values["mobile"], "users", "mobile"),
                index(values["mobile"], "mobile"),
                ctx.actor.user_id,
            )
            created = {"id": user_id, "username": values["username"]}
            entry = trail.account(created, "account.create", role=params.role)
            await trail.changed(conn, ctx, entry)
    except asyncpg.UniqueViolationError:
        raise RpcError(
            "invalid_input", "用户名已被使用", 422, {"username": USERNAME_TAKEN}
        ) from None
    return {"user_id": str(user_id), "username": values["username"]}


async def list_reviewers(params: ListReviewers, ctx: CallContext) -> dict:
    clause, args = reviewers_query(params, ctx.actor)
    rows = await ctx.pool.fetch(
        f"SELECT * FROM users WHERE {clause} ORDER BY {REVIEWERS_ORDER}", *args
    )
    return {"items": [user_view(r) for r in rows]}


REVIEWERS_ORDER = "role, org_name, username"


def reviewers_query(params: ListReviewers, actor) -> tuple[str, list]:
    """The reviewer accounts as the sysadmin's list filters them (and its export)."""
    require_role(actor, "sysadmin")
    active = {"all": None, "active": True, "disabled": False}[params.status]
    clause = (
        "role IN ('department', 'office', 'committee')"
        " AND ($1::text IS NULL OR role = $1) AND ($2::boolean IS NULL OR active = $2)"
    )
    return clause, [params.role, active]


async def create_sysadmin(
    pool, username: str, password: str, name: str, mobile: str | None = None
) -> uuid.UUID:
    """The first system administrator, from the command line (services.accounts.admin); the
    mobile gets the login codes of the second factor."""
    user_id, username = uuid.uuid4(), validate_username(username)
    password_hash = await hash_password_async(validate_password(password))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO users (id, username, password_hash, role, name, mobile, mobile_index)"
            " VALUES ($1, $2, $3, 'sysadmin', $4, $5, $6)",
            user_id,
            username,
            password_hash,
            name,
            seal(mobile, "users", "mobile"),
            index(mobile, "mobile"),
        )
        entry = trail.account(
            {"id": user_id, "username": username}, "account.create", role="sysadmin"
        )
        await record(conn, command_line("services.accounts.admin"), entry)
    return user_id
