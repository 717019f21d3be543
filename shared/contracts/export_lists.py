"""The lists that can be exported (导出Excel), who owns each and which filters it takes: the
list's own query model, so an export is asked for exactly as its page is. Pure."""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared.contracts.accounts.rpc import ListReviewers, ListUsers
from shared.contracts.audit import AuditSearch
from shared.contracts.cases.certificates import ListCertificates
from shared.contracts.cases.integrity import ListDiscredits, PublicityCasesQuery
from shared.contracts.cases.meetings import ListMeetings
from shared.contracts.cases.rpc import ListedCases, ListExperts
from shared.contracts.notify.rpc import UnsettledQuery

PAGING = ("page", "page_size")  # a list page's keys that an export ignores
AUDIT_PAGING = ("before_at", "before_seq", "limit")
# Filters that may hold an ID number (a search by name or number): masked in the audit trail.
PERSONAL_FILTERS: dict[str, tuple[str, ...]] = {
    "people": ("q",),
    "experts": ("q",),
    "discredits": ("q",),
    "certificates": ("q",),  # by number or name; someone may still type an ID number
    "audit": ("person", "object"),
}


@dataclass(frozen=True)
class ExportList:
    key: str
    owner: str  # the service that keeps the rows and builds the file
    title: str
    filters: type[BaseModel]  # the list's own query model (its paging keys are ignored)
    paging: tuple[str, ...] = PAGING


EXPORT_LISTS: dict[str, ExportList] = {
    e.key: e
    for e in (
        ExportList("work", "cases", "业务列表", ListedCases),
        ExportList("experts", "cases", "评审专家库", ListExperts),
        ExportList("meetings", "cases", "评审会议", ListMeetings),
        ExportList("discredits", "cases", "失信记录", ListDiscredits),
        ExportList("objections", "cases", "公示与异议", PublicityCasesQuery),
        ExportList("certificates", "cases", "证书登记簿", ListCertificates),
        ExportList("people", "accounts", "经办人、申报人员", ListUsers),
        ExportList("reviewers", "accounts", "评审机构账户", ListReviewers),
        ExportList("sms", "notify", "短信发送情况", UnsettledQuery),
        # every service's trail, merged by documents as the gateway's search merges them
        ExportList("audit", "documents", "审计日志", AuditSearch, AUDIT_PAGING),
    )
}


class UnknownFilters(ValueError):
    """Query keys the list does not take: refused rather than ignored, so an export is never
    wider than the person meant."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.fields = {name: "该列表没有这个查询条件" for name in names}


def filters_of(key: str, given: dict[str, Any]) -> dict[str, Any]:
    """The filters as the list's model reads them, paging left out. KeyError: no such list;
    UnknownFilters; pydantic's ValidationError: a value the list does not take."""
    export = EXPORT_LISTS[key]
    unknown = sorted(set(given) - set(export.filters.model_fields) - set(export.paging))
    if unknown:
        raise UnknownFilters(unknown)
    given = {k: v for k, v in given.items() if k not in export.paging}
    model = export.filters.model_validate(given)
    return {k: v for k, v in model.model_dump(mode="json").items() if k not in export.paging}
