"""The holiday calendar (节假日安排): the sysadmin keeps each year's State Council notice and its
放假 / 调休上班 days; the working-day calendar takes them before the package (calendar.py)."""

import asyncpg

from services.cases.domain.calendar import (
    DayKind,
    DayRefused,
    OfficialDay,
    check_official_day,
    package_days_of,
    schedule_warnings,
    weekday_label,
)
from services.cases.holidays import load_calendar, official_day
from shared.audit import Entry, record
from shared.contracts.cases.holidays import AddHolidayDay, DayRef, SaveHolidayYear, YearRef
from shared.rpc import CallContext, RpcError


def _sysadmin(ctx: CallContext) -> None:
    if ctx.actor.role != "sysadmin" or ctx.actor.user_id is None:
        raise RpcError("forbidden", "只有系统管理员可以维护节假日安排", 403)


def _invalid(field: str, message: str) -> RpcError:
    return RpcError("invalid_input", message, 422, {field: message})


async def status(_params, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    today = ctx.deps.clock.today()
    async with ctx.pool.acquire() as conn:
        calendar = await load_calendar(conn)
    warnings = schedule_warnings(today, calendar, ctx.deps.settings.warn_from())
    return {"today": today.isoformat(), "warnings": warnings}


async def years(_params, ctx: CallContext) -> dict:
    """From last year to next year, and every year entered."""
    _sysadmin(ctx)
    today = ctx.deps.clock.today()
    async with ctx.pool.acquire() as conn:
        calendar = await load_calendar(conn)
        notices = {r["year"]: r for r in await conn.fetch(NOTICES)}
        counts = {
            r["notice_year"]: r["n"]
            for r in await conn.fetch(
                "SELECT notice_year, count(*) AS n FROM holiday_days GROUP BY notice_year"
            )
        }
    warnings = schedule_warnings(today, calendar, ctx.deps.settings.warn_from())
    shown = sorted({*range(today.year - 1, today.year + 2), *notices}, reverse=True)
    rows = [
        {
            "year": year,
            "source": calendar.source_of(year),
            "notice": _notice(notices.get(year)),
            "days": counts.get(year, 0),
        }
        for year in shown
    ]
    return {"today": today.isoformat(), "warnings": warnings, "years": rows}


NOTICES = "SELECT year, notice_title, notice_number, notice_url, updated_at FROM holiday_years"


def _notice(row) -> dict | None:
    if row is None:
        return None
    return {
        "notice_title": row["notice_title"],
        "notice_number": row["notice_number"],
        "notice_url": row["notice_url"],
        "updated_at": row["updated_at"].isoformat(),
    }


def _day_view(day: OfficialDay) -> dict:
    return {
        "day": day.day.isoformat(),
        "weekday": weekday_label(day.day),
        "kind": day.kind.value,
        "kind_label": day.kind.label,
        "name": day.name,
        "notice_year": day.notice_year,
    }


async def year(params: YearRef, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    async with ctx.pool.acquire() as conn:
        calendar = await load_calendar(conn)
        notice = await conn.fetchrow(f"{NOTICES} WHERE year = $1", params.year)
        days = await conn.fetch(
            "SELECT day, kind, name, notice_year FROM holiday_days WHERE notice_year = $1"
            " ORDER BY day",
            params.year,
        )
    return {
        "year": params.year,
        "source": calendar.source_of(params.year),
        "notice": _notice(notice),
        "days": [_day_view(official_day(r)) for r in days],
        "package_days": [_day_view(d) for d in package_days_of(params.year)],
    }


async def save_year(params: SaveHolidayYear, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    if not params.notice_url.startswith(("https://", "http://")):
        raise _invalid("notice_url", "通知网址应以 https:// 或 http:// 开头")
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO holiday_years (year, notice_title, notice_number, notice_url,"
            " updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (year)"
            " DO UPDATE SET notice_title = $2, notice_number = $3, notice_url = $4,"
            " updated_at = $5, updated_by = $6",
            params.year,
            params.notice_title,
            params.notice_number,
            params.notice_url,
            now,
            ctx.actor.user_id,
        )
        details = {"notice_number": params.notice_number}
        await _audit(conn, ctx, "holiday.save_year", params.year, details)
    return {"saved": str(params.year)}


async def remove_year(params: YearRef, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    async with ctx.pool.acquire() as conn, conn.transaction():
        removed = await conn.execute("DELETE FROM holiday_years WHERE year = $1", params.year)
        if removed.endswith(" 0"):
            raise RpcError("not_found", f"{params.year}年的节假日安排尚未录入", 404)
        await _audit(conn, ctx, "holiday.remove_year", params.year, {})
    return {"saved": str(params.year)}


async def add_day(params: AddHolidayDay, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    entry = OfficialDay(params.day, DayKind(params.kind), params.name.strip(), params.notice_year)
    if not entry.name:
        raise _invalid("name", "请填写节日名称")
    try:
        check_official_day(entry)
    except DayRefused as refused:
        raise _invalid(refused.field, refused.message) from None
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval(
            "SELECT 1 FROM holiday_years WHERE year = $1", params.notice_year
        ):
            raise _invalid("notice_year", f"请先填写{params.notice_year}年的国务院办公厅通知")
        await _insert_day(conn, ctx, entry)
        details = {"kind": entry.kind.value, "name": entry.name}
        await _audit(conn, ctx, "holiday.add_day", entry.day.isoformat(), details)
    return {"saved": entry.day.isoformat()}


async def _insert_day(conn, ctx: CallContext, entry: OfficialDay) -> None:
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO holiday_days (day, notice_year, kind, name, created_at, created_by)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                entry.day,
                entry.notice_year,
                entry.kind.value,
                entry.name,
                ctx.deps.clock.now(),
                ctx.actor.user_id,
            )
    except asyncpg.UniqueViolationError:
        row = await conn.fetchrow(
            "SELECT kind, name, notice_year FROM holiday_days WHERE day = $1", entry.day
        )
        kind = DayKind(row["kind"]).label
        raise _invalid(
            "day",
            f"{entry.day.isoformat()}已录入（{row['notice_year']}年通知：{row['name']}{kind}），"
            "如需更改请先删除",
        ) from None


async def remove_day(params: DayRef, ctx: CallContext) -> dict:
    _sysadmin(ctx)
    async with ctx.pool.acquire() as conn, conn.transaction():
        removed = await conn.execute("DELETE FROM holiday_days WHERE day = $1", params.day)
        if removed.endswith(" 0"):
            raise RpcError("not_found", f"{params.day.isoformat()}未录入", 404)
        await _audit(conn, ctx, "holiday.remove_day", params.day.isoformat(), {})
    return {"saved": params.day.isoformat()}


async def _audit(conn, ctx: CallContext, action: str, object_id, details: dict) -> None:
    entry = Entry(action, "holiday", str(object_id), details=details)
    await record(conn, ctx.actor, entry, at=ctx.deps.clock.now())
