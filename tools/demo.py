"""Demo accounts for a first look: `python -m tools.setup --demo` loads them once.

Passwords are random, printed when the accounts are created and kept in
<ZC_VAR_DIR>/demo-accounts.txt (never committed) for later runs.
"""

import uuid
from datetime import date
from pathlib import Path

import asyncpg

from services.accounts.domain.credentials import generate_password, hash_password
from services.accounts.domain.validation import gender_from_id, id_check_char
from services.accounts.enrolment import Enrolment, upsert_enrolment
from shared.db import create_pool
from shared.settings import Settings
from tools.demo_data import (
    COMMITTEES,
    DEPARTMENTS,
    MEETING_RULES,
    OFFICE,
    demo_experts,
    demo_reference,
)
from tools.personal_data import seal_written


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


UNITS = [
    {
        "org_code": "D2143569X",
        "name": "深圳市南山科技发展有限公司",
        "si_unit_no": "4403001001",
        "admin": ("nsadmin", "王建国", _id("44030519780312001"), "60010001", "13800000001"),
        "operators": [("nsjingban", "陈晓燕", "13800000002")],
        "applicants": [
            ("yf0815", "杨帆", _id("44030519880815003"), "13800000003"),
            ("gaobq01", "高兵全", _id("44030519850620004"), "13800000004"),
            # more people of the unit, each with a demo case of their own (tools.demo_cases)
            ("liuyang01", "刘洋", _id("44030519920312003"), "13800000021"),
            ("chenjing02", "陈静", _id("42010619871105002"), "13800000022"),
            ("huangzq03", "黄志强", _id("44130219830122001"), "13800000023"),
            ("zhouting04", "周婷", _id("43010419910718004"), "13800000024"),
            ("wuhao05", "吴昊", _id("36010219860930005"), "13800000025"),
            ("zhenglj06", "郑丽娟", _id("35020319950416006"), "13800000026"),
            ("sunjh07", "孙建华", _id("23010319751208007"), "13800000027"),
            ("linxf08", "林晓峰", _id("44510219840527009"), "13800000028"),
            ("hexm09", "何雪梅", _id("51010719890214008"), "13800000029"),
            ("guowei10", "郭伟", _id("41010519901003001"), "13800000030"),
            ("luomin11", "罗敏", _id("45010319850821002"), "13800000031"),
            ("lianggd12", "梁国栋", _id("44010619820611003"), "13800000032"),
            ("xieyx13", "谢雨欣", _id("44030419881225004"), "13800000033"),
            ("songjm14", "宋家明", _id("37010219870309005"), "13800000034"),
            ("tanghui15", "唐慧", _id("43010219900128006"), "13800000035"),
        ],
    },
    {
        "org_code": "M000100Y4",
        "name": "深圳市福田教育集团",
        "si_unit_no": "4403002002",
        "admin": ("ftadmin", "李红梅", _id("44030419800101002"), "60020001", "13800000011"),
        "operators": [("ftjingban", "赵敏", "13800000012")],
        "applicants": [("yf0809", "叶菲", _id("44030419900809002"), "13800000013")],
    },
]


async def load_reference(settings: Settings) -> None:
    """The demo round, series, qualifications, committees and review types, the committees'
    experts and two committees' meeting rules (each kept if edited)."""
    from services.cases.reference_seed import seed_reference

    pool = await create_pool(settings.database_url, "cases")
    try:
        async with pool.acquire() as conn, conn.transaction():
            await seed_reference(conn, demo_reference())
            await load_experts(conn)
            await seal_written(conn, "cases")
    finally:
        await pool.close()


async def load_experts(conn: asyncpg.Connection) -> None:
    """A few experts in each committee's library, unless it has some already."""
    for committee, (basis, minimum, outside) in MEETING_RULES.items():
        await conn.execute(
            "INSERT INTO committee_meeting_rules (committee_id, basis, min_members,"
            " outside_results) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            committee,
            basis,
            minimum,
            outside,
        )
    stocked = {
        r["committee_id"] for r in await conn.fetch("SELECT DISTINCT committee_id FROM experts")
    }
    rows = [r for r in demo_experts(date.today()) if r[0] not in stocked]
    await conn.executemany(
        "INSERT INTO experts (id, committee_id, name, id_number, mobile, unit_name, series_id,"
        " speciality, title_level, joined_on, term_ends_on, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), now())",
        [(uuid.uuid4(), *row) for row in rows],
    )


async def load_demo(settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo accounts unless they exist; returns (role, username, password) created."""
    pool = await create_pool(settings.database_url, "accounts")
    try:
        async with pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT 1 FROM users WHERE username = 'sysadmin'"):
                return []
            created = await _create_all(conn)
            await seal_written(conn, "accounts")
            return created
    finally:
        await pool.close()


async def _create_all(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    created = []

    async def user(role, username, name, **extra):
        password = generate_password()
        await conn.execute(
            "INSERT INTO users (id, username, password_hash, role, name, unit_id, org_id,"
            " org_name, id_number, gender, mobile, email)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            uuid.uuid4(),
            username,
            hash_password(password),
            role,
            name,
            extra.get("unit_id"),
            extra.get("org_id"),
            extra.get("org_name"),
            extra.get("id_number"),
            gender_from_id(extra["id_number"]) if extra.get("id_number") else None,
            extra.get("mobile"),
            extra.get("email"),
        )
        created.append((role, username, password))

    await user("sysadmin", "sysadmin", "系统管理员")
    await user("office", "zjcadmin", "专技处审批员", org_id=OFFICE[0], org_name=OFFICE[1])
    for number, (org_id, org_name) in enumerate(DEPARTMENTS.items(), start=1):
        await user("department", f"dept{number:02d}", "受理员", org_id=org_id, org_name=org_name)
    for number, (org_id, (org_name, _)) in enumerate(COMMITTEES.items(), start=1):
        await user("committee", f"cmte{number:02d}", "评委会秘书", org_id=org_id, org_name=org_name)
    for unit in UNITS:
        unit_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO units (id, org_code, name, si_unit_no, source) VALUES ($1, $2, $3, $4,"
            " 'local')",
            unit_id,
            unit["org_code"],
            unit["name"],
            unit["si_unit_no"],
        )
        login, name, id_number, si_no, mobile = unit["admin"]
        await upsert_enrolment(
            conn, Enrolment(id_number, unit["si_unit_no"], si_no, unit["name"], name, True)
        )
        await user(
            "unit_admin",
            login,
            name,
            unit_id=unit_id,
            id_number=id_number,
            mobile=mobile,
            email=f"{login}@example.cn",
        )
        for login, name, mobile in unit["operators"]:
            await user("unit_operator", login, name, unit_id=unit_id, mobile=mobile)
        for login, name, id_number, mobile in unit["applicants"]:
            await user(
                "applicant",
                login,
                name,
                unit_id=unit_id,
                id_number=id_number,
                mobile=mobile,
                email=f"{login}@example.cn",
            )
    return created


def save_and_print(settings: Settings, created: list[tuple[str, str, str]]) -> None:
    path = Path(settings.var_dir) / "demo-accounts.txt"
    if not created:
        where = f"（密码见 {path}）" if path.exists() else ""
        print(f"演示账户已存在{where}")
        return
    lines = [f"{role:<14} {username:<12} {password}" for role, username, password in created]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("角色 用户名 密码\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"已创建演示账户（密码只显示这一次，另存于 {path}）：")
    for line in lines:
        print("  " + line)
