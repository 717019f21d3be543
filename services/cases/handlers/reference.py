"""Reference data: everyone logged in reads it; the system administrator maintains it."""

import asyncpg

from shared.contracts.cases.events import ORGANISATION_RENAMED, OrganisationRenamed
from shared.contracts.cases.rpc import (
    SaveCommittee,
    SaveDepartment,
    SaveQualification,
    SaveReviewType,
    SaveRound,
    SaveSeries,
)
from shared.envelope import new_event
from shared.outbox import add_to_outbox
from shared.rpc import CallContext, RpcError


def _sysadmin(ctx: CallContext) -> None:
    if ctx.actor.role != "sysadmin" or ctx.actor.user_id is None:
        raise RpcError("forbidden", "只有系统管理员可以维护基础数据", 403)


async def all_reference(_params, ctx: CallContext) -> dict:
    if ctx.actor.user_id is None:
        raise RpcError("unauthenticated", "请先登录", 401)
    fetch = ctx.pool.fetch
    rounds = await fetch("SELECT * FROM rounds ORDER BY opens_on DESC")
    committees = await fetch(
        "SELECT c.*, array_agg(q.qualification_id ORDER BY q.qualification_id) AS qualification_ids"
        " FROM committees c LEFT JOIN committee_qualifications q ON q.committee_id = c.id"
        " GROUP BY c.id ORDER BY c.name"
    )
    return {
        "rounds": [
            {
                **dict(r),
                "opens_on": r["opens_on"].isoformat(),
                "closes_on": r["closes_on"].isoformat(),
            }
            for r in rounds
        ],
        "series": [dict(r) for r in await fetch("SELECT * FROM series ORDER BY position")],
        "qualifications": [
            dict(r)
            for r in await fetch("SELECT * FROM qualifications ORDER BY series_id, position")
        ],
        "departments": [dict(r) for r in await fetch("SELECT * FROM departments ORDER BY name")],
        "committees": [dict(r) for r in committees],
        "review_types": [
            dict(r) for r in await fetch("SELECT * FROM review_types ORDER BY position")
        ],
    }


async def save_round(params: SaveRound, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    if params.closes_on < params.opens_on:
        raise RpcError(
            "invalid_input",
            "截止日期不能早于开始日期",
            422,
            {"closes_on": "截止日期不能早于开始日期"},
        )
    await ctx.pool.execute(
        "INSERT INTO rounds VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE"
        " SET name = $2, opens_on = $3, closes_on = $4, pre_publicity_days = $5,"
        " post_publicity_days = $6, evaluation_max_length = $7, active = $8",
        params.id,
        params.name,
        params.opens_on,
        params.closes_on,
        params.pre_publicity_days,
        params.post_publicity_days,
        params.evaluation_max_length,
        params.active,
    )
    return {"saved": params.id}


async def save_review_type(params: SaveReviewType, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    await ctx.pool.execute(
        "INSERT INTO review_types (id, name, needs_pre_approval) VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET name = $2, needs_pre_approval = $3",
        params.id,
        params.name,
        params.needs_pre_approval,
    )
    return {"saved": params.id}


async def save_committee(params: SaveCommittee, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT 1 FROM departments WHERE id = $1", params.department_id):
            raise RpcError(
                "invalid_input", "日常工作部门不存在", 422, {"department_id": "日常工作部门不存在"}
            )
        known = await conn.fetchval(
            "SELECT count(*) FROM qualifications WHERE id = ANY($1)", params.qualification_ids
        )
        if known != len(set(params.qualification_ids)):
            raise RpcError(
                "invalid_input",
                "专业技术资格不存在",
                422,
                {"qualification_ids": "有不存在的专业技术资格"},
            )
        await _name_unused(conn, "committees", params.id, params.name, "评委会")
        await _tell_if_renamed(conn, "committees", "committee", params.id, params.name)
        await conn.execute(
            "INSERT INTO committees VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE"
            " SET name = $2, department_id = $3, active = $4",
            params.id,
            params.name,
            params.department_id,
            params.active,
        )
        await conn.execute(
            "DELETE FROM committee_qualifications WHERE committee_id = $1", params.id
        )
        await conn.executemany(
            "INSERT INTO committee_qualifications VALUES ($1, $2)",
            [(params.id, q) for q in set(params.qualification_ids)],
        )
    return {"saved": params.id}


async def save_department(params: SaveDepartment, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _name_unused(conn, "departments", params.id, params.name, "日常工作部门")
        await _tell_if_renamed(conn, "departments", "department", params.id, params.name)
        await conn.execute(
            "INSERT INTO departments (id, name) VALUES ($1, $2)"
            " ON CONFLICT (id) DO UPDATE SET name = $2",
            params.id,
            params.name,
        )
    return {"saved": params.id}


async def save_series(params: SaveSeries, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _name_unused(conn, "series", params.id, params.name, "系列")
        await conn.execute(
            "INSERT INTO series (id, name, position) VALUES ($1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET name = $2, position = $3",
            params.id,
            params.name,
            params.position,
        )
    return {"saved": params.id}


async def save_qualification(params: SaveQualification, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT 1 FROM series WHERE id = $1", params.series_id):
            raise RpcError("invalid_input", "系列不存在", 422, {"series_id": "系列不存在"})
        # One name may stand in two series (讲师: 高校教师, 中专教师), not twice in one.
        await _name_unused(
            conn, "qualifications", params.id, params.name, "专业技术资格", series=params.series_id
        )
        await conn.execute(
            "INSERT INTO qualifications (id, series_id, name, level, position)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE"
            " SET series_id = $2, name = $3, level = $4, position = $5",
            params.id,
            params.series_id,
            params.name,
            params.level,
            params.position,
        )
    return {"saved": params.id}


async def _name_unused(
    conn: asyncpg.Connection, table: str, ref_id: str, name: str, noun: str, series: str = ""
) -> None:
    """Two entries of one list with the same name could not be told apart in any form."""
    query = f"SELECT id FROM {table} WHERE name = $1 AND id <> $2"  # table: one of ours
    args = [name, ref_id]
    if series:
        query += " AND series_id = $3"
        args.append(series)
    other = await conn.fetchval(query, *args)
    if other:
        message = f"已有名称为“{name}”的{noun}（编号 {other}），请换一个名称"
        raise RpcError("invalid_input", message, 422, {"name": message})


async def _tell_if_renamed(
    conn: asyncpg.Connection, table: str, role: str, org_id: str, name: str
) -> None:
    """An organisation saved under a new name: the event goes out with the change."""
    old = await conn.fetchval(f"SELECT name FROM {table} WHERE id = $1 FOR UPDATE", org_id)
    if old is not None and old != name:
        # Accounts keep each reviewer account's organisation name: they hear of a new one so.
        renamed = OrganisationRenamed(role=role, org_id=org_id, name=name)
        await add_to_outbox(conn, new_event(ORGANISATION_RENAMED.type, renamed, "cases"))
