"""The services' audit trails read as one (docs/audit.md): the sysadmin's search asks every
service by RPC and merges their rows (shared/audit_merge.py); the applicant's readers; the
search as a query string."""

import asyncio
from datetime import datetime, timedelta

from pydantic import ValidationError

from gateway.web import call
from shared.audit_merge import Cursor, Merged, merge_search
from shared.clock import SHENZHEN
from shared.contracts.accounts.vocabulary import ROLE_LABELS
from shared.contracts.audit import AuditSearch
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.documents import rpc as documents_rpc
from shared.contracts.registry import SERVICES
from shared.rpc import RpcError, invalid_input


async def search(request, params: AuditSearch, cursor: Cursor | None) -> Merged:
    """The first `params.limit` rows of every service's trail after `cursor`, newest first."""

    async def ask(service: str, query: dict) -> dict:
        return await call(request, SERVICES[service]["audit.search"], query)

    return await merge_search(ask, params, cursor)


async def case_readers(request, case_id: str) -> list[dict]:
    """Who read or printed the applicant's case, newest first (cases and documents know)."""
    asked = [
        call(request, method, {"case_id": case_id})
        for method in (cases_rpc.CASE_READERS, documents_rpc.DOCUMENTS_READERS)
    ]
    answers = await asyncio.gather(*asked)
    readers = [r for a in answers for r in a["readers"]]
    readers.sort(key=lambda r: datetime.fromisoformat(r["at"]), reverse=True)
    return [{**r, "role_label": ROLE_LABELS.get(r["role"], r["role"])} for r in readers]


# --- the search as a query string (the page's form and GET /api/audit) ---

FILTERS = ("person", "object", "object_type", "action", "outcome", "since", "until")
QUERY = (*FILTERS, "before", "limit")
DATE_FORMAT = "日期格式应为 YYYY-MM-DD"


def _moment(name: str, text: str, end: bool) -> datetime:
    """A day in Shenzhen (its start; for `until` the next day's start), or an instant."""
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=SHENZHEN)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RpcError("invalid_input", DATE_FORMAT, 422, {name: DATE_FORMAT}) from None
    if moment.tzinfo is None:
        raise RpcError("invalid_input", DATE_FORMAT, 422, {name: DATE_FORMAT})
    return moment


def read_query(query) -> tuple[AuditSearch, Cursor | None]:
    """The search and the page's position from a query string; a 422 naming what is wrong."""
    given = {k: query[k].strip() for k in QUERY if query.get(k, "").strip()}
    params: dict = {k: v for k, v in given.items() if k not in ("since", "until", "before")}
    for name, end in (("since", False), ("until", True)):
        if name in given:
            params[name] = _moment(name, given[name], end)
    try:
        search_params = AuditSearch.model_validate(params)
    except ValidationError as error:
        raise invalid_input(error) from None
    return search_params, Cursor.parse(given["before"]) if "before" in given else None
