"""Unit admin registration (单位用户注册), manual §1.1."""

import uuid

import asyncpg

from services.accounts import trail
from services.accounts.domain.credentials import hash_password_async
from services.accounts.domain.validation import gender_from_id, validate_registration
from services.accounts.handlers.sms import consume_code
from services.accounts.personal import index, sealed_user
from shared.audit import Entry
from shared.contracts.accounts.events import UNIT_REGISTERED, UnitRegistered
from shared.contracts.accounts.rpc import RegisterUnit
from shared.envelope import new_event
from shared.outbox import add_to_outbox
from shared.rpc import CallContext, RpcError


def invalid(fields: dict[str, str]) -> RpcError:
    return RpcError("invalid_input", "注册信息有误，请按提示修改", 422, fields)


async def register_unit(params: RegisterUnit, ctx: CallContext) -> dict:
    deps = ctx.deps
    data, errors = validate_registration(params.form.model_dump(), today=deps.clock.today())
    if errors:
        raise invalid(errors)
    password_hash = await hash_password_async(data.password)
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            problems = await _business_rules(conn, deps, data)
            if problems:
                raise invalid(problems)
            code_problem = await consume_code(conn, deps, data.mobile, "register", data.sms_code)
            if code_problem is None:
                try:
                    result = await _create(conn, ctx, data, password_hash)
                except asyncpg.UniqueViolationError as error:  # lost a race to the same name
                    raise invalid(_clash(error)) from None
        # Outside the transaction block: a wrong code's try count has been committed.
        if code_problem is not None:
            raise invalid({"sms_code": code_problem})
    return result


async def _business_rules(conn, deps, data) -> dict[str, str]:
    problems = {}
    org_code = data.org_code if data.org_code_kind == "org_code" else data.org_code[8:17]
    taken = await conn.fetchval(
        "SELECT 1 FROM units u JOIN users a ON a.unit_id = u.id AND a.role = 'unit_admin'"
        " WHERE u.org_code = $1",
        org_code,
    )
    if taken:
        problems["org_code"] = "该单位已注册单位管理员；一个单位仅能注册一名单位管理员，且不能变更"
    if await conn.fetchval("SELECT 1 FROM users WHERE lower(username) = lower($1)", data.username):
        problems["username"] = "该用户名已被使用，请换一个"
    if await conn.fetchval(
        "SELECT 1 FROM users WHERE id_number_index = $1 AND role <> 'expert'",
        index(data.admin_id_number, "id_number"),
    ):
        problems["admin_id_number"] = "该身份证号已有账户"
    enrolment = await deps.registry.find(conn, data.admin_id_number, data.si_unit_no)
    if enrolment is None or not enrolment.active:
        problems["si_unit_no"] = "管理员当前未在该单位社保号下缴纳社保，请核对单位社保号与身份证号"
    elif enrolment.si_no != data.admin_si_no:
        problems["admin_si_no"] = "社保电脑号与社保登记不一致"
    elif enrolment.person_name != data.admin_name:
        problems["admin_name"] = "管理员姓名与社保登记不一致"
    return problems


async def _create(conn, ctx: CallContext, data, password_hash: str) -> dict:
    unit_name = (
        await ctx.deps.registry.find(conn, data.admin_id_number, data.si_unit_no)
    ).unit_name
    unit_id, user_id = uuid.uuid4(), uuid.uuid4()
    is_uscc = data.org_code_kind == "uscc"
    org_code = data.org_code[8:17] if is_uscc else data.org_code
    existing = await conn.fetchrow("SELECT id FROM units WHERE org_code = $1", org_code)
    if existing:
        unit_id = existing["id"]  # a unit known from the talent system, without an admin yet
    else:
        await conn.execute(
            "INSERT INTO units (id, org_code, credit_code, name, si_unit_no, source)"
            " VALUES ($1, $2, $3, $4, $5, 'local')",
            unit_id,
            org_code,
            data.org_code if is_uscc else None,
            unit_name,
            data.si_unit_no,
        )
    sealed = sealed_user({"id_number": data.admin_id_number, "mobile": data.mobile})
    await conn.execute(
        "INSERT INTO users (id, username, password_hash, role, unit_id, name, id_number,"
        " id_number_index, gender, mobile, mobile_index, email, phone, si_no)"
        " VALUES ($1, $2, $3, 'unit_admin', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        user_id,
        data.username,
        password_hash,
        unit_id,
        data.admin_name,
        sealed["id_number"],
        sealed["id_number_index"],
        gender_from_id(data.admin_id_number),
        sealed["mobile"],
        sealed["mobile_index"],
        data.email,
        data.phone,
        data.admin_si_no,
    )
    registered = UnitRegistered(
        unit_id=str(unit_id),
        org_code=org_code,
        name=unit_name,
        admin_user_id=str(user_id),
        admin_username=data.username,
    )
    await add_to_outbox(conn, new_event(UNIT_REGISTERED.type, registered, "accounts"))
    admin = {"id": user_id, "username": data.username}
    await trail.changed(
        conn,
        ctx,
        Entry("unit.register", "unit", unit_id, unit_name, details={"org_code": org_code}),
        trail.account(admin, "account.create", role="unit_admin"),
    )
    return {
        "unit_id": str(unit_id),
        "unit_name": unit_name,
        "user_id": str(user_id),
        "username": data.username,
    }


def _clash(error: asyncpg.UniqueViolationError) -> dict[str, str]:
    constraint = error.constraint_name or ""
    if "username" in constraint:
        return {"username": "该用户名已被使用，请换一个"}
    if "id_number" in constraint:
        return {"admin_id_number": "该身份证号已有账户"}
    return {"org_code": "该单位已注册单位管理员；一个单位仅能注册一名单位管理员，且不能变更"}
