"""系统运行状况: each service's key figures for the system administrator, asked over RPC
(each service's `stats`, shared/contracts/base.py), as the copy that answers has them."""

import asyncio

from aiohttp import web

from gateway.auth import login_required
from gateway.keys import rpc_key
from gateway.web import render
from shared.contracts.registry import SERVICES
from shared.rpc import RpcError

NAMES = {
    "accounts": "账户服务（accounts）",
    "cases": "申报业务服务（cases）",
    "documents": "文档服务（documents）",
    "notify": "通知服务（notify）",
}
OUTBOX_AGE_LIMIT = 10.0  # seconds: docs/operations.md, What to watch


@login_required("sysadmin")
async def services_status(request: web.Request) -> web.Response:
    rpc = request.app[rpc_key]
    rows = await asyncio.gather(*(_row(rpc, name) for name in SERVICES))
    return render(request, "admin/services.html", {"rows": rows, "outbox_limit": OUTBOX_AGE_LIMIT})


async def _row(rpc, service: str) -> dict:
    row = {"service": service, "name": NAMES.get(service, service)}
    try:
        row["stats"] = await rpc.invoke(SERVICES[service]["stats"])
    except RpcError as error:
        row["error"] = error.message
    return row
