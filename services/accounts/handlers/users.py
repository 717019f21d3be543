"""The unit's people: operators (经办人) and applicant accounts (申报人员).

get, set_active and set_password also serve the sysadmin on department, office and committee
accounts: who may manage whom is settled in access.py.
"""

import uuid

import asyncpg

from services.accounts import trail
from services.accounts.access import (
    UNIT_ROLES,
    fetch_managed_user,
    forbidden,
    may_manage,
    not_found,
    require_unit,
)
from services.accounts.domain.credentials import hash_password_async
from services.accounts.domain.validation import (
    FieldError,
    validate_email,
    validate_gender,
    validate_id_number,
    validate_mobile,
    validate_name,
    validate_password,
    validate_username,
)
from services.accounts.handlers import lockout
from services.accounts.handlers.auth import check_new_password
from services.accounts.handlers.sessions import revoke_sessions
from services.accounts.personal import for_transit, index, opened_user, sealed_user
from services.accounts.views import user_view
from shared.contracts.accounts.events import USER_CREATED, UserCreated
from shared.contracts.accounts.rpc import (
    ListUsers,
    SetActive,
    SetPassword,
    UpdateUser,
    UserForm,
    UserRef,
)
from shared.contracts.accounts.vocabulary import PERSON_FIELD_LABELS
from shared.envelope import new_event
from shared.masks import mask_id_number, mask_mobile
from shared.outbox import add_to_outbox
from shared.rpc import CallContext, RpcError
from shared.text import like_pattern


def clean_person(fields: dict[str, str], role: str, today, creating: bool) -> tuple[dict, dict]:
    """Validated values and per-field messages for an operator or applicant form."""
    values, errors = {}, {}
    checks = {"name": validate_name, "mobile": validate_mobile}
    if role == "applicant":
        checks["id_number"] = lambda v, label: validate_id_number(v, today=today, label=label)
    if fields.get("email", "").strip() or role == "applicant":
        checks["email"] = validate_email
    if creating:
        checks["username"] = validate_username
        checks["password"] = validate_password
    for name, check in checks.items():
        try:
            values[name] = check(fields.get(name, ""), label=PERSON_FIELD_LABELS[name])
        except FieldError as error:
            errors[name] = error.message
    if role == "applicant":
        try:
            values["gender"] = validate_gender(
                fields.get("gender", ""), id_number=values.get("id_number"), label="性别"
            )
        except FieldError as error:
            errors["gender"] = error.message
    values.setdefault("email", None)
    return values, errors


def _invalid(errors: dict[str, str]) -> RpcError:
    return RpcError("invalid_input", "信息有误，请按提示修改", 422, errors)


def _clash(error: asyncpg.UniqueViolationError) -> dict[str, str]:
    if "id_number" in (error.constraint_name or ""):
        return {"id_number": "该身份证号已有账户（身份证号在全系统唯一）"}
    return {"username": "该用户名已被使用，请换一个"}


async def list_users(params: ListUsers, ctx: CallContext) -> dict:
    clause, args = people_query(params, ctx.actor)
    total = await ctx.pool.fetchval(f"SELECT count(*) FROM users WHERE {clause}", *args)
    rows = await ctx.pool.fetch(
        f"SELECT * FROM users WHERE {clause} ORDER BY {PEOPLE_ORDER}"
        f" LIMIT {params.page_size} OFFSET {(params.page - 1) * params.page_size}",
        *args,
    )

    return {
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "items": [user_view(r) for r in rows],
    }


PEOPLE_ORDER = "created_at DESC, id"


def people_query(params: ListUsers, actor) -> tuple[str, list]:
    """The unit's people of a role the actor manages, as the list filters them: the WHERE
    of users.list and of its export."""
    unit_id = require_unit(actor, *UNIT_ROLES)
    if not may_manage(actor, params.role):
        raise forbidden()
    where = ["unit_id = $1", "role = $2"]
    args: list = [unit_id, params.role]
    if params.q.strip():
        q = params.q.strip()
        args.extend([like_pattern(q), index(q, "id_number"), index(q, "mobile")])
        n = len(args)
        # Sealed numbers are found whole, by their blind index, never by a part.
        where.append(
            f"(name ILIKE ${n - 2} OR username ILIKE ${n - 2}"
            f" OR id_number_index = ${n - 1} OR mobile_index = ${n})"
        )
    if params.status != "all":
        where.append(f"active = {'true' if params.status == 'active' else 'false'}")
    return " AND ".join(where), args


async def get_user(params: UserRef, ctx: CallContext) -> dict:
    """One person's account, its numbers masked (显示完整号码 shows one, audited)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await fetch_managed_user(conn, ctx.actor, params.user_id, params.role)
        await trail.changed(conn, ctx, trail.account(row, "account.view"))
    return user_view(row)


async def create_user(params: UserForm, ctx: CallContext) -> dict:
    unit_id = require_unit(ctx.actor, *UNIT_ROLES)
    if not may_manage(ctx.actor, params.role):
        raise forbidden()
    values, errors = clean_person(params.fields, params.role, ctx.deps.clock.today(), True)
    if errors:
        raise _invalid(errors)
    password_hash = await hash_password_async(values["password"])
    async with ctx.pool.acquire() as conn:
        try:
            async with conn.transaction():
                user_id = await insert_user(conn, ctx, unit_id, params.role, values, password_hash)
        except asyncpg.UniqueViolationError as error:
            raise _invalid(_clash(error)) from None
    return {"user_id": str(user_id), "username": values["username"]}


async def insert_user(conn, ctx: CallContext, unit_id, role: str, values: dict, password_hash):
    user_id, sealed = uuid.uuid4(), sealed_user(values)
    await conn.execute(
        "INSERT INTO users (id, username, password_hash, role, unit_id, name, id_number,"
        " id_number_index, gender, mobile, mobile_index, email, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        user_id,
        values["username"],
        password_hash,
        role,
        unit_id,
        values["name"],
        sealed["id_number"],
        sealed["id_number_index"],
        values.get("gender"),
        sealed["mobile"],
        sealed["mobile_index"],
        values.get("email"),
        ctx.actor.user_id,
    )
    created = UserCreated(
        user_id=str(user_id),
        unit_id=str(unit_id),
        role=role,
        name=values["name"],
        id_number=for_transit(values.get("id_number")),
    )
    await add_to_outbox(conn, new_event(USER_CREATED.type, created, "accounts"))
    person = {"id": user_id, "username": values["username"]}
    await trail.changed(conn, ctx, trail.account(person, "account.create", role=role))
    return user_id


async def update_user(params: UpdateUser, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn:
        try:
            async with conn.transaction():
                # Who may touch this person is settled before their input is looked at.
                row = await fetch_managed_user(conn, ctx.actor, params.user_id, params.role)
                person = opened_user(row)
                fields = kept_when_masked(params.fields, person)
                values, errors = clean_person(fields, params.role, ctx.deps.clock.today(), False)
                if errors:
                    raise _invalid(errors)
                await _update(conn, params.user_id, values)
                entry = trail.account(person, "account.update", fields=_changed(person, values))
                await trail.changed(conn, ctx, entry)
        except asyncpg.UniqueViolationError as error:
            raise _invalid(_clash(error)) from None
    return {"updated": True}


def kept_when_masked(fields: dict[str, str], person: dict) -> dict[str, str]:
    """An edit form shows the stored numbers masked: sent back masked, or empty, they stay."""
    fields = dict(fields)
    for name, mask in (("id_number", mask_id_number), ("mobile", mask_mobile)):
        typed = (fields.get(name) or "").strip()
        if person[name] and typed in ("", mask(person[name])):
            fields[name] = person[name]
    return fields


async def _update(conn, user_id, values: dict) -> None:
    sealed = sealed_user(values)
    await conn.execute(
        "UPDATE users SET name = $2, mobile = $3, mobile_index = $4, email = $5,"
        " id_number = COALESCE($6, id_number), id_number_index = COALESCE($7, id_number_index),"
        " gender = COALESCE($8, gender), updated_at = now() WHERE id = $1",
        user_id,
        values["name"],
        sealed["mobile"],
        sealed["mobile_index"],
        values.get("email"),
        sealed["id_number"],
        sealed["id_number_index"],
        values.get("gender"),
    )


def _changed(person, values: dict) -> list[str]:
    """The fields an update changed (their names only: the trail keeps no personal data)."""
    kept_when_absent = ("id_number", "gender")
    return [
        name
        for name in ("name", "mobile", "email", *kept_when_absent)
        if not (name in kept_when_absent and values.get(name) is None)
        and values.get(name) != person[name]
    ]


async def set_active(params: SetActive, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn, conn.transaction():
        person = await fetch_managed_user(conn, ctx.actor, params.user_id, params.role)
        await conn.execute(
            "UPDATE users SET active = $2, updated_at = now() WHERE id = $1",
            params.user_id,
            params.active,
        )
        if not params.active:
            await revoke_sessions(conn, params.user_id, ctx.deps.clock.now())
        action = "account.enable" if params.active else "account.disable"
        await trail.changed(conn, ctx, trail.account(person, action))
    return {"active": params.active}


async def delete_user(params: UserRef, ctx: CallContext) -> dict:
    """An applicant account added by mistake goes for good (its ID number and username are
    free again). Only applicants: staff accounts are disabled, never deleted, as their names
    stand in case histories. The caller has made sure the applicant has no case."""
    if params.role != "applicant":
        raise RpcError("forbidden", "只能删除申报个人账户；经办人账户请停用", 403)
    async with ctx.pool.acquire() as conn, conn.transaction():
        person = await fetch_managed_user(conn, ctx.actor, params.user_id, params.role)
        await conn.execute("DELETE FROM sessions WHERE user_id = $1", params.user_id)
        await conn.execute("DELETE FROM users WHERE id = $1", params.user_id)
        await trail.changed(conn, ctx, trail.account(person, "account.delete", role=params.role))
    return {"deleted": True, "name": person["name"], "username": person["username"]}


async def set_password(params: SetPassword, ctx: CallContext) -> dict:
    """A manager sets a new password for someone they manage; that person's sessions end."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        await fetch_managed_user(conn, ctx.actor, params.user_id, params.role)
    problems = check_new_password(params.new_password, params.new_password_confirm)
    if problems:
        raise _invalid(problems)
    new_hash = await hash_password_async(params.new_password)
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        person = await fetch_managed_user(conn, ctx.actor, params.user_id, params.role)
        await conn.execute(
            "UPDATE users SET password_hash = $2, password_changed_at = $3, locked_until = NULL,"
            " updated_at = $3 WHERE id = $1",
            params.user_id,
            new_hash,
            now,
        )
        await revoke_sessions(conn, params.user_id, now)
        await lockout.forget_failures(conn, params.user_id)
        await trail.changed(conn, ctx, trail.account(person, "account.password_set"))
    return {"reset": True}


async def me(_params, ctx: CallContext) -> dict:

    if ctx.actor.user_id is None:
        raise RpcError("unauthenticated", "请先登录", 401)
    row = await ctx.pool.fetchrow(
        "SELECT u.*, n.name AS unit_name FROM users u LEFT JOIN units n ON n.id = u.unit_id"
        " WHERE u.id = $1",
        ctx.actor.user_id,
    )
    if row is None:
        raise not_found()
    return user_view(row, row["unit_name"], full=True)
