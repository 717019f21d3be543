"""The services' audit trails read as one (docs/audit.md).

Each service keeps its own trail and answers `audit.search` for it; the gateway's search and
the documents service's export ask them all and merge their rows newest first. A page ends at
a row; the next page is what comes after it in the order (time, service, number) descending,
which each service can answer from its own rows: the cursor says where, per service. A case
number is known to the cases service only: it is asked first, and the others are asked about
the cases it names.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from shared.contracts.audit import AuditSearch
from shared.contracts.registry import SERVICES
from shared.rpc import RpcError

Ask = Callable[[str, dict], Awaitable[dict]]  # a service's audit.search, by its name

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


async def merge_search(ask: Ask, params: AuditSearch, cursor: Cursor | None) -> Merged:
    """The first `params.limit` rows of every service's trail after `cursor`, newest first;
    `ask(service, query)` is that service's audit.search."""
    answers: dict[str, dict] = {}
    unavailable: list[str] = []
    services = list(SERVICES)
    if params.object.strip() and not _is_uuid(params.object.strip()):
        services.remove("cases")
        await _ask(ask, "cases", params, cursor, answers, unavailable)
        numbered = answers.get("cases", {}).get("cases") or []
        if numbered:  # a case number: the others know its cases by id
            params = AuditSearch.model_validate(
                {**params.model_dump(), "object": "", "case_ids": numbered}
            )
    await asyncio.gather(*(_ask(ask, s, params, cursor, answers, unavailable) for s in services))
    rows = sorted((r for a in answers.values() for r in a["rows"]), key=_order, reverse=True)
    more = len(rows) > params.limit or any(a["more"] for a in answers.values())
    page = rows[: params.limit]
    last = page[-1] if page and more else None
    following = Cursor(*_order(last)) if last else None
    return Merged(page, str(following) if following else None, sorted(unavailable))


async def _ask(ask: Ask, service, params, cursor, answers: dict, unavailable: list) -> None:
    query = params.model_dump(mode="json") | (cursor.bound(service) if cursor else {})
    try:
        answers[service] = await ask(service, query)
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
