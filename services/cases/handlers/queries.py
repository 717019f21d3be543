"""Reading cases: the unit home counts, work lists with 待办/已办 tabs, one case in full."""

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from services.cases.domain.materials import SCAN_CATEGORIES, SECTIONS
from services.cases.domain.model import Action, CaseState, Role, actions_for, assessment_years
from services.cases.repository import CASE_COLUMNS
from services.cases.scope import WORK_LISTS, lists_for, party_id, visibility
from shared.rpc import CallContext, RpcError

LIST_COLUMNS = (
    f"{CASE_COLUMNS}, t.name AS review_type_name, q.name AS qualification_name,"
    " d.name AS department_name, m.name AS committee_name, r.name AS round_name"
)
JOINS = (
    " JOIN review_types t ON t.id = c.review_type_id"
    " JOIN qualifications q ON q.id = c.qualification_id"
    " JOIN departments d ON d.id = c.department_id"
    " JOIN committees m ON m.id = c.committee_id"
    " JOIN rounds r ON r.id = c.round_id"
)
SORTS = {
    "updated": "c.updated_at DESC, c.id",
    "name": "c.applicant_name, c.id",
    "qualification": "q.position, q.name, c.id",
    "status": "c.state, c.updated_at DESC, c.id",
    "case_no": "c.case_no",
}


class ListCases(BaseModel):
    list: str
    tab: Literal["todo", "done"] = "todo"
    name: str = ""
    review_type_id: str = ""
    qualification_id: str = ""
    state: str = ""
    department_id: str = ""
    committee_id: str = ""
    round_id: str = ""
    sort: Literal["updated", "name", "qualification", "status", "case_no"] = "updated"
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=200)


class CaseRef(BaseModel):
    case_id: uuid.UUID


class MyCases(BaseModel):
    page: int = Field(1, ge=1)


def row_view(row) -> dict:
    return {
        "id": str(row["id"]),
        "case_no": row["case_no"],
        "name": row["applicant_name"],
        "review_type": row["review_type_name"],
        "qualification": row["qualification_name"],
        "status": row["status_label"],
        "state": row["state"],
        "outcome": row["outcome"],
        "reason": row["last_reason"] or "",
        "department": row["department_name"],
        "committee": row["committee_name"],
        "round": row["round_name"],
        "version": row["version"],
        "updated_at": row["updated_at"].isoformat(),
    }


def _filters(params: ListCases, args: list) -> list[str]:
    where = []
    for column, value in (
        ("c.review_type_id", params.review_type_id),
        ("c.qualification_id", params.qualification_id),
        ("c.state", params.state),
        ("c.department_id", params.department_id),
        ("c.committee_id", params.committee_id),
        ("c.round_id", params.round_id),
    ):
        if value:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if params.name.strip():
        args.append(f"%{params.name.strip()}%")
        where.append(f"c.applicant_name ILIKE ${len(args)}")
    return where


async def list_cases(params: ListCases, ctx: CallContext) -> dict:
    work_list = WORK_LISTS.get(params.list)
    if work_list is None or work_list not in lists_for(ctx.actor):
        raise RpcError("not_found", "没有这个业务列表", 404)
    condition, args = visibility(ctx.actor, 1)
    where = [condition]
    join_done = ""
    if params.tab == "todo":
        args.append([s.value for s in work_list.states])
        where.append(f"c.state = ANY(${len(args)}::text[])")
    else:
        args += [party_id(ctx.actor), work_list.key]
        join_done = (
            f" JOIN case_done cd ON cd.case_id = c.id AND cd.party_id = ${len(args) - 1}"
            f" AND cd.list = ${len(args)}"
        )
    where += _filters(params, args)
    clause = " AND ".join(where)
    # The reference joins never change the count (non-null foreign keys): leave them out.
    total = await ctx.pool.fetchval(
        f"SELECT count(*) FROM cases c{join_done} WHERE {clause}", *args
    )
    order = (
        "cd.at DESC, c.id"
        if params.tab == "done" and params.sort == "updated"
        else (SORTS[params.sort])
    )
    rows = await ctx.pool.fetch(
        f"SELECT {LIST_COLUMNS} FROM cases c{join_done}{JOINS} WHERE {clause} ORDER BY {order}"
        f" LIMIT {params.page_size} OFFSET {(params.page - 1) * params.page_size}",
        *args,
    )
    actions = [a.value for a in work_list.actions] if params.tab == "todo" else []
    return {
        "list": work_list.key,
        "title": work_list.title,
        "tab": params.tab,
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "actions": actions,
        "items": [row_view(r) for r in rows],
    }


async def home_counts(_params, ctx: CallContext) -> dict:
    """Cases waiting at each of the actor's lists (the unit home's ten-step diagram)."""
    condition, args = visibility(ctx.actor, 1)
    rows = await ctx.pool.fetch(
        f"SELECT c.state, count(*) AS n FROM cases c WHERE {condition} GROUP BY c.state", *args
    )
    by_state = {r["state"]: r["n"] for r in rows}
    return {
        "lists": [
            {
                "key": w.key,
                "title": w.title,
                "count": sum(by_state.get(s.value, 0) for s in w.states),
            }
            for w in lists_for(ctx.actor)
        ]
    }


async def my_cases(params: MyCases, ctx: CallContext) -> dict:
    if ctx.actor.role != "applicant":
        raise RpcError("forbidden", "只有申报个人可以查看“我的申报”", 403)
    rows = await ctx.pool.fetch(
        f"SELECT {LIST_COLUMNS} FROM cases c{JOINS} WHERE c.applicant_id = $1"
        " ORDER BY c.created_at DESC LIMIT 50 OFFSET $2",
        ctx.actor.user_id,
        (params.page - 1) * 50,
    )
    return {"items": [row_view(r) for r in rows]}


async def get_case(params: CaseRef, ctx: CallContext) -> dict:
    """Everything about one case that the actor may see, with the buttons they may press."""
    condition, args = visibility(ctx.actor, 2)
    row = await ctx.pool.fetchrow(
        f"SELECT {LIST_COLUMNS}, c.applicant_id FROM cases c{JOINS}"
        f" WHERE c.id = $1 AND {condition}",
        params.case_id,
        *args,
    )
    if row is None:
        raise RpcError("not_found", "申报业务不存在或无权访问", 404)
    sections = {
        r["section"]: r["data"]
        for r in await ctx.pool.fetch(
            "SELECT section, data FROM case_sections WHERE case_id = $1", params.case_id
        )
    }
    attachments = await ctx.pool.fetch(
        "SELECT id, category, file_id, filename, content_type, size_bytes, uploaded_at"
        " FROM case_attachments WHERE case_id = $1 AND removed_at IS NULL ORDER BY uploaded_at",
        params.case_id,
    )
    history = await ctx.pool.fetch(
        "SELECT action, actor_role, from_state, to_state, outcome, status_label, inputs,"
        " reason, at FROM case_history WHERE case_id = $1 ORDER BY id",
        params.case_id,
    )
    return {
        **row_view(row),
        "applicant_id": str(row["applicant_id"]),
        "unit_id": str(row["unit_id"]),
        "round_id": row["round_id"],
        # the years the unit's 审核同意 form asks about, by the service's own clock
        "assessment_years": list(assessment_years(ctx.deps.clock.today())),
        "needs_pre_approval": row["needs_pre_approval"],
        "unit_approval": row["unit_approval"],
        "pre_publicity": row["pre_publicity"],
        "post_publicity": row["post_publicity"],
        "sections": sections,
        "section_titles": SECTIONS,
        "attachments": [
            {
                **dict(a),
                "id": str(a["id"]),
                "file_id": str(a["file_id"]),
                "category_name": SCAN_CATEGORIES.get(a["category"], a["category"]),
                "uploaded_at": a["uploaded_at"].isoformat(),
            }
            for a in attachments
        ],
        "history": [
            {
                **dict(h),
                "action_name": Action(h["action"]).verb,
                "from_label": CaseState(h["from_state"]).label,
                "to_label": CaseState(h["to_state"]).label,
                "actor_label": Role(h["actor_role"]).label,
                "at": h["at"].isoformat(),
            }
            for h in history
        ],
        "actions": [a.value for a in _actions(ctx, row)],
    }


def _actions(ctx: CallContext, row) -> list[Action]:
    try:
        role = Role(ctx.actor.role)
    except ValueError:
        return []
    return actions_for(CaseState(row["state"]), role)


async def can_view(params: CaseRef, ctx: CallContext) -> dict:
    """For the documents service: may this actor see this case (and so its files)?"""
    condition, args = visibility(ctx.actor, 2)
    row = await ctx.pool.fetchrow(
        f"SELECT c.unit_id FROM cases c WHERE c.id = $1 AND {condition}", params.case_id, *args
    )
    return {"allowed": row is not None}
