"""导出Excel of the cases service's lists: the query of each list's page (its WHERE and ORDER
BY, without paging), the columns of the page and the useful hidden ones, read in one snapshot
and written by shared/exports.py. Personal numbers are in full for a role that may see them
(handlers/personal.py, shared/contracts/personal.py) and masked for the others.
"""

from collections.abc import Callable

from services.cases import sealed
from services.cases.handlers.personal import CASE_READERS
from services.cases.handlers.queries import JOINS, work_list_query
from shared.contracts.accounts.rpc import MAX_UNIT_NAMES, UNITS_NAMES
from shared.contracts.cases.rpc import ListedCases
from shared.exports import Column, Source, SourceOf, excel_date, excel_time, export_methods
from shared.masks import mask_id_number, mask_mobile
from shared.rpc import Actor, CallContext

TAB_LABELS = {"todo": "待办业务", "done": "已办业务"}


# --- full or masked ---


def may_see_case_numbers(actor: Actor) -> bool:
    return actor.role == "sysadmin" or actor.role in CASE_READERS


def shown(full: bool, mask: Callable[[str | None], str | None]) -> Callable:
    return (lambda value: value) if full else mask


# --- 业务列表 (every role's work lists, 待办 and 已办) ---

WORK_SQL_COLUMNS = (
    "c.case_no, c.applicant_name, c.applicant_id_number, c.applicant_mobile, c.unit_id,"
    " t.name AS review_type_name, q.name AS qualification_name, c.status_label, c.state,"
    " c.pre_publicity, c.post_publicity, c.last_reason, d.name AS department_name,"
    " m.name AS committee_name, r.name AS round_name, c.created_at, c.updated_at"
)
WORK_COLUMNS = (
    Column("业务编号", width=18),
    Column("人员姓名", width=10),
    Column("身份证号", width=20),
    Column("手机号码", width=13),
    Column("申报单位", width=28),
    Column("评审类型", width=12),
    Column("专业技术资格", width=20),
    Column("业务状态", width=22),
    Column("公示截止日期", "date", 12),
    Column("原因", width=30),
    Column("日常工作部门", width=18),
    Column("评委会", width=24),
    Column("评审年度", width=12),
    Column("申报时间", "datetime", 17),
    Column("最近办理时间", "datetime", 17),
)


class _UnitNames:
    """The names of the cases' units, asked of accounts a chunk at a time and kept for the
    export (there are far fewer units than cases)."""

    def __init__(self, ctx: CallContext) -> None:
        self.ctx = ctx
        self.names: dict[str, str] = {}

    async def prepare(self, records: list) -> None:
        unknown = sorted({str(r["unit_id"]) for r in records} - set(self.names))
        for start in range(0, len(unknown), MAX_UNIT_NAMES):
            wanted = unknown[start : start + MAX_UNIT_NAMES]
            answer = await self.ctx.deps.peers.invoke(UNITS_NAMES, {"unit_ids": wanted})
            self.names.update({i: answer["names"].get(i, "") for i in wanted})


def work_source(filters: dict, ctx: CallContext) -> Source:
    params = ListedCases.model_validate(filters)
    query = work_list_query(params, ctx.actor)
    title = f"{query.work_list.title}（{TAB_LABELS[params.tab]}）"
    full = may_see_case_numbers(ctx.actor)
    id_number, mobile = shown(full, mask_id_number), shown(full, mask_mobile)
    units = _UnitNames(ctx)

    def convert(r) -> tuple:
        period = {"pre_publicity": r["pre_publicity"], "post_publicity": r["post_publicity"]}
        return (
            r["case_no"],
            r["applicant_name"],
            id_number(sealed.unseal(r["applicant_id_number"], sealed.CASE_ID_NUMBER)),
            mobile(sealed.unseal(r["applicant_mobile"], sealed.CASE_MOBILE)),
            units.names.get(str(r["unit_id"]), ""),
            r["review_type_name"],
            r["qualification_name"],
            r["status_label"],
            excel_date((period.get(r["state"]) or {}).get("end")),
            r["last_reason"],
            r["department_name"],
            r["committee_name"],
            r["round_name"],
            excel_time(r["created_at"]),
            excel_time(r["updated_at"]),
        )

    return Source(
        title=title,
        columns=WORK_COLUMNS,
        sql=(
            f"SELECT {WORK_SQL_COLUMNS} FROM {query.source}{JOINS}"
            f" WHERE {query.clause} ORDER BY {query.order}"
        ),
        args=query.args,
        convert=convert,
        prepare=units.prepare,
        full_fields=["id_number", "mobile"] if full else [],
        count_sql=query.count_sql(),
    )


SOURCES: dict[str, SourceOf] = {"work": work_source}
count, build_export = export_methods("cases", SOURCES, lambda ctx: ctx.deps.peers)
