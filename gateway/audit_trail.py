"""The services' audit trails read as one (docs/audit.md).

Each service keeps its own trail and answers `audit.search` for it; the gateway asks them
all and merges their rows newest first. A page ends at a row; the next page is what comes
after it in the order (time, service, number) descending, which each service can answer
from its own rows: the cursor says where, per service. A case number is known to the cases
service only: it is asked first, and the others are asked about the cases it names.
"""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from gateway.web import call
from shared.clock import SHENZHEN
from shared.contracts.accounts.vocabulary import ROLE_LABELS
from shared.contracts.audit import AuditSearch
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.documents import rpc as documents_rpc
from shared.contracts.registry import SERVICES
from shared.rpc import RpcError, invalid_input

AFTER_ALL = 2**62  # a row number beyond any: every row at the cursor's time comes after it


@dataclass(frozen=True)
class Cursor:
    """The last row of a page: `<time>|<service>|<number>`."""

    at: datetime
    service: str
    seq: int

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        try:
            at, service, seq = text.split("|")
            cursor = cls(datetime.fromisoformat(at), service, int(seq))
        except ValueError:
            raise _bad_cursor() from None
        if cursor.at.tzinfo is None or cursor.service not in SERVICES:
            raise _bad_cursor()
        return cursor

    def __str__(self) -> str:
        return f"{self.at.isoformat()}|{self.service}|{self.seq}"

    def bound(self, service: str) -> dict:
        """What comes after this row, in `service`'s own terms."""
        if service == self.service:
            seq = self.seq
        else:
            seq = AFTER_ALL if service < self.service else 0
        return {"before_at": self.at, "before_seq": seq}


def _bad_cursor() -> RpcError:
    return RpcError("invalid_input", "分页位置无效", 422, {"before": "分页位置无效"})


@dataclass
class Merged:
    rows: list[dict]
    next: str | None  # the cursor of the next page, if there is one
    unavailable: list[str]  # services that did not answer: their rows are missing


def _order(row: dict) -> tuple:
    return datetime.fromisoformat(row["at"]), row["service"], row["seq"]


async def search(request, params: AuditSearch, cursor: Cursor | None) -> Merged:
    """The first `params.limit` rows of every service's trail after `cursor`, newest first."""
    answers: dict[str, dict] = {}
    unavailable: list[str] = []
    services = list(SERVICES)
    if params.object.strip() and not _is_uuid(params.object.strip()):
        services.remove("cases")
        await _ask(request, "cases", params, cursor, answers, unavailable)
        numbered = answers.get("cases", {}).get("cases") or []
        if numbered:  # a case number: the others know its cases by id
            params = AuditSearch.model_validate(
                {**params.model_dump(), "object": "", "case_ids": numbered}
            )
    await asyncio.gather(
        *(_ask(request, s, params, cursor, answers, unavailable) for s in services)
    )
    rows = sorted((r for a in answers.values() for r in a["rows"]), key=_order, reverse=True)
    more = len(rows) > params.limit or any(a["more"] for a in answers.values())
    page = rows[: params.limit]
    last = page[-1] if page and more else None
    following = Cursor(*_order(last)) if last else None
    return Merged(page, str(following) if following else None, sorted(unavailable))


async def _ask(request, service, params, cursor, answers: dict, unavailable: list) -> None:
    query = params.model_dump(mode="json") | (cursor.bound(service) if cursor else {})
    try:
        answers[service] = await call(request, SERVICES[service]["audit.search"], query)
    except RpcError as error:
        if error.status < 500:
            raise
        unavailable.append(service)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


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
