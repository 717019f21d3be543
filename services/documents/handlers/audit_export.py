"""导出Excel of the sysadmin's audit search (审计日志): every service's trail, merged newest
first as the page merges them (shared/audit_merge.py), a page of 200 rows at a time. The
documents service builds it: it is the one service that asks the others (its own trail it
reads itself). A service that does not answer fails the build (it is tried again later): an
export never leaves rows out silently, as the page may."""

import json
from datetime import datetime

from shared.audit import require_sysadmin, search_rows
from shared.audit_merge import Cursor, merge_search
from shared.contracts.audit import (
    ACTOR_LABELS,
    OBJECT_TYPES,
    OUTCOME_LABELS,
    SERVICE_LABELS,
    AuditSearch,
)
from shared.contracts.registry import SERVICES
from shared.exports import Column, Source, SourceOf, excel_time, export_methods
from shared.rpc import CallContext, RpcError

PAGE = 200  # rows merged at a time (audit.search's largest page)
CELL_MAX = 32_000  # Excel holds 32,767 characters in a cell
COLUMNS = (
    Column("时间", "datetime", 17),
    Column("服务", width=8),
    Column("操作人", width=10),
    Column("用户名", width=16),
    Column("角色", width=10),
    Column("单位或机构", width=24),
    Column("地址", width=15),
    Column("操作", width=20),
    Column("对象类型", width=10),
    Column("对象", width=24),
    Column("对象编号", width=36),
    Column("结果", width=8),
    Column("原因", width=14),
    Column("请求编号", width=20),
    Column("详情", width=40),
)


def audit_source(filters: dict, ctx: CallContext) -> Source:
    require_sysadmin(ctx.actor)
    params = AuditSearch.model_validate({**filters, "limit": PAGE})

    async def ask(service: str, query: dict) -> dict:
        if service == ctx.service:
            async with ctx.pool.acquire() as conn:
                return await search_rows(conn, service, AuditSearch.model_validate(query))
        return await ctx.deps.peers.invoke(SERVICES[service]["audit.search"], query, ctx.actor)

    async def chunks():
        cursor = None
        while True:
            merged = await merge_search(ask, params, cursor)
            if merged.unavailable:
                missing = "、".join(SERVICE_LABELS[s] for s in merged.unavailable)
                raise RpcError("service_unavailable", f"{missing}服务暂时不可用", 503)
            if merged.rows:
                yield merged.rows
            if merged.next is None:
                return
            cursor = Cursor.parse(merged.next)

    return Source(
        title="审计日志",
        columns=COLUMNS,
        sql="",
        args=(),
        convert=convert,
        chunks=chunks,
    )


def convert(row: dict) -> tuple:
    details = json.dumps(row["details"], ensure_ascii=False) if row["details"] else ""
    return (
        excel_time(datetime.fromisoformat(row["at"])),
        SERVICE_LABELS.get(row["service"], row["service"]),
        row["actor_name"],
        row["actor_username"],
        ACTOR_LABELS.get(row["actor_role"], row["actor_role"]),
        row["actor_org_name"],
        row["client_address"],
        row["action_label"],
        OBJECT_TYPES.get(row["object_type"], row["object_type"]),
        row["object_label"],
        row["object_id"],
        OUTCOME_LABELS.get(row["outcome"], row["outcome"]),
        row["code"],
        row["request_id"],
        details[:CELL_MAX],
    )


SOURCES: dict[str, SourceOf] = {"audit": audit_source}
count, build_export = export_methods("documents", SOURCES, lambda ctx: ctx.deps.peers)
