"""导出Excel of the cases service's lists: the query of each list's page (its WHERE and ORDER
BY, without paging), the columns of the page and the useful hidden ones, read in one snapshot
and written by shared/exports.py. Personal numbers are in full for a role that may see them
(handlers/personal.py, shared/contracts/personal.py) and masked for the others.
"""

from datetime import date

from services.cases import discredits, sealed
from services.cases.deadline_views import Deadlines, deadlines_today
from services.cases.domain.calendar import local_date
from services.cases.domain.experts import status_on
from services.cases.domain.objections import phase_of as phase_of_case
from services.cases.handlers.certificates import (
    REGISTER_COLUMNS,
    REGISTER_COUNT,
    REGISTER_FROM,
    register_query,
)
from services.cases.handlers.experts import EXPERTS_ORDER, experts_query
from services.cases.handlers.experts import SELECT as EXPERTS_SELECT
from services.cases.handlers.integrity import DISCREDITS_ORDER, discredits_query
from services.cases.handlers.meetings import MEETINGS_ORDER, meetings_query
from services.cases.handlers.objections import (
    PUBLICITY_COLUMNS,
    PUBLICITY_JOINS,
    PUBLICITY_ORDER,
    publicity_query,
)
from services.cases.handlers.personal import CASE_READERS
from services.cases.handlers.queries import QUALIFICATION_JOIN, work_list_query
from services.cases.meeting_repository import MEETING, phase_of
from shared import xlsx
from shared.clock import SHENZHEN
from shared.contracts.accounts.rpc import MAX_UNIT_NAMES, UNITS_NAMES
from shared.contracts.cases.certificates import CertificateStatus, ListCertificates
from shared.contracts.cases.integrity import ListDiscredits, PublicityCasesQuery, PublicityPhase
from shared.contracts.cases.meetings import ListMeetings
from shared.contracts.cases.rpc import ListedCases, ListExperts
from shared.contracts.cases.vocabulary import CaseState
from shared.export_render import Sealed
from shared.exports import (
    ROWS_LIMIT,
    Column,
    Lookup,
    Source,
    SourceOf,
    copy_select,
    excel_date,
    excel_time,
    export_methods,
    label_cells,
)
from shared.rpc import Actor, CallContext

TAB_LABELS = {"todo": "待办业务", "done": "已办业务"}


# --- full or masked ---


def may_see_case_numbers(actor: Actor) -> bool:
    return actor.role == "sysadmin" or actor.role in CASE_READERS


# --- 业务列表 (every role's work lists, 待办 and 已办) ---

# The columns of the page, in order, sent by COPY as plain values (a date or a moment as
# Excel's day number) and made into the sheet's rows by shared/exports.py. What repeats is a
# key, its cells made once for the export (`Lookup`): a unit's name asked of accounts, a
# reference's name, a step's two marks (超期, 办理期限) by its state and the day it was
# entered. With no join, the list's own index gives the rows in the page's order, with no
# sort before the first row; and the database sends half the bytes it did when it made the
# cells itself, for half its CPU (bench/README.md).
STATE_DAY = (
    f"c.state || ' ' || ((c.state_since AT TIME ZONE '{SHENZHEN.key}')::date - DATE '2000-01-01')"
)
DAY_ZERO = date(2000, 1, 1).toordinal()
REFERENCE_TABLES = {
    "review_types": "c.review_type_id",
    "qualifications": "c.qualification_id",
    "departments": "c.department_id",
    "committees": "c.committee_id",
    "rounds": "c.round_id",
}
PUBLICITY_END = (
    "CASE c.state WHEN 'pre_publicity' THEN c.pre_publicity->>'end'"
    " WHEN 'post_publicity' THEN c.post_publicity->>'end' END"
)


def work_fields(ctx: CallContext, deadlines: Deadlines, full: bool) -> list:
    """The work list's COPY fields: (expression, what it is), in the columns' order."""
    names = {column: reference_lookup(ctx, table) for table, column in REFERENCE_TABLES.items()}
    return [
        ("c.case_no", "label"),
        ("c.applicant_name", "label"),
        (
            "c.applicant_id_number",
            Sealed(sealed.CASE_ID_NUMBER.label, None if full else "id_number"),
        ),
        ("c.applicant_mobile", Sealed(sealed.CASE_MOBILE.label, None if full else "mobile")),
        ("c.unit_id", Lookup(lambda units: unit_cells(ctx, units))),
        ("c.review_type_id", names["c.review_type_id"]),
        ("c.qualification_id", names["c.qualification_id"]),
        ("c.status_label", "label"),
        (STATE_DAY, marks_lookup(deadlines)),
        (PUBLICITY_END, "date"),
        ("c.last_reason", "text"),
        ("c.department_id", names["c.department_id"]),
        ("c.committee_id", names["c.committee_id"]),
        ("c.round_id", names["c.round_id"]),
        ("c.created_at", "datetime"),
        ("c.updated_at", "datetime"),
    ]


WORK_COLUMNS = (
    Column("业务编号", width=18),
    Column("人员姓名", width=10),
    Column("身份证号", width=20),
    Column("手机号码", width=13),
    Column("申报单位", width=28),
    Column("评审类型", width=12),
    Column("专业技术资格", width=20),
    Column("业务状态", width=22),
    Column("超期", width=6),
    Column("办理期限", "date", 12),
    Column("公示截止日期", "date", 12),
    Column("原因", width=30),
    Column("日常工作部门", width=18),
    Column("评委会", width=24),
    Column("评审年度", width=12),
    Column("申报时间", "datetime", 17),
    Column("最近办理时间", "datetime", 17),
)


async def work_source(filters: dict, ctx: CallContext) -> Source:
    params = ListedCases.model_validate(filters)
    async with ctx.pool.acquire() as conn:
        deadlines = await deadlines_today(conn, ctx.deps)
    return work_source_on(params, ctx, deadlines)


def work_source_on(params: ListedCases, ctx: CallContext, deadlines: Deadlines) -> Source:
    """The work list's export with today's step limits: 超期 and 办理期限 as the list marks them."""
    query = work_list_query(params, ctx.actor, deadlines)
    title = f"{query.work_list.title}（{TAB_LABELS[params.tab]}）"
    full = may_see_case_numbers(ctx.actor)
    fields = work_fields(ctx, deadlines, full)
    # the qualifications' order (q.position) is the table's own
    joins = QUALIFICATION_JOIN if "q." in query.order else ""
    return Source(
        title=title,
        columns=WORK_COLUMNS,
        sql=(
            f"SELECT {copy_select(fields)} FROM {query.source}{joins}"
            f" WHERE {query.clause} ORDER BY {query.order}{ROWS_LIMIT}"
        ),
        args=query.args,
        fields=[how for _, how in fields],
        full_fields=["id_number", "mobile"] if full else [],
        count_sql=query.count_sql(),
    )


async def unit_cells(ctx: CallContext, unit_ids: list[str]) -> dict[str, bytes]:
    names = await unit_names(ctx, unit_ids)
    return cells_by_key(unit_ids, [names.get(unit) for unit in unit_ids])


def reference_lookup(ctx: CallContext, table: str) -> Lookup:
    """A reference table's names by id (its ids are short codes: the few of a list)."""

    async def cells_of(ids: list[str]) -> dict[str, bytes]:
        rows = await ctx.pool.fetch(f"SELECT id, name FROM {table} WHERE id = ANY($1::text[])", ids)
        return cells_by_key([r["id"] for r in rows], [r["name"] for r in rows])

    return Lookup(cells_of)


def marks_lookup(deadlines: Deadlines) -> Lookup:
    """A step's 超期 and 办理期限 cells by its state and the day it was entered (STATE_DAY),
    counted in working days once for each such pair."""

    async def cells_of(keys: list[str]) -> dict[str, bytes]:
        marks = {}
        for key in keys:
            state, day = key.split(" ")
            entered = date.fromordinal(DAY_ZERO + int(day))
            marks[key] = mark_cells(**deadlines.entered_on(state, entered))
        return marks

    return Lookup(cells_of, empty=xlsx.EMPTY.encode() * 2)


def cells_by_key(keys: list[str], names: list[str | None]) -> dict[str, bytes]:
    return dict(zip(keys, label_cells(names), strict=True))


def mark_cells(overdue: bool, due_on: str | None) -> bytes:
    """The 超期 and 办理期限 cells of a step entered on a day."""
    cells = xlsx.column_cells("label", ["超期" if overdue else None])
    cells += xlsx.column_cells("date", [due_on])
    return b"".join(cells)


async def unit_names(ctx: CallContext, unit_ids: list[str]) -> dict[str, str]:
    """The names of units, asked of accounts MAX_UNIT_NAMES at a time."""
    names: dict[str, str] = {}
    for start in range(0, len(unit_ids), MAX_UNIT_NAMES):
        wanted = unit_ids[start : start + MAX_UNIT_NAMES]
        answer = await ctx.deps.peers.invoke(UNITS_NAMES, {"unit_ids": wanted})
        names.update(answer["names"])
    return names


# --- 评审专家库 (a committee's secretary its own, the sysadmin every committee's) ---

EXPERT_COLUMNS = (
    Column("姓名", width=10),
    Column("身份证号", width=20),
    Column("手机号码", width=13),
    Column("工作单位", width=28),
    Column("系列", width=14),
    Column("专业", width=16),
    Column("职称级别", width=8),
    Column("评委会", width=28),
    Column("入库日期", "date", 12),
    Column("任期截止", "date", 12),
    Column("状态", width=8),
    Column("出库日期", "date", 12),
)


def experts_source(filters: dict, ctx: CallContext) -> Source:
    today = ctx.deps.clock.today()
    condition, args = experts_query(ListExperts.model_validate(filters), ctx.actor, today)

    def convert(r) -> tuple:
        # only the keepers list the library, and they may see its numbers (显示完整号码)
        return (
            r["name"],
            sealed.unseal(r["id_number"], sealed.EXPERT_ID_NUMBER),
            sealed.unseal(r["mobile"], sealed.EXPERT_MOBILE),
            r["unit_name"],
            r["series_name"],
            r["speciality"],
            r["title_level"],
            r["committee_name"],
            r["joined_on"],
            r["term_ends_on"],
            status_on(r["term_ends_on"], r["removed_on"], today).label,
            r["removed_on"],
        )

    return Source(
        title="评审专家库",
        columns=EXPERT_COLUMNS,
        sql=f"{EXPERTS_SELECT} WHERE {condition} ORDER BY {EXPERTS_ORDER}",
        args=args,
        convert=convert,
        full_fields=["id_number", "mobile"],
        count_sql=f"SELECT count(*) FROM experts e WHERE {condition}",
    )


# --- 评审会议 (the keeper's) ---

MEETING_COLUMNS = (
    Column("会议日期", "date", 12),
    Column("开始时间", width=8),
    Column("评委会", width=28),
    Column("日常工作部门", width=18),
    Column("评审年度", width=12),
    Column("地点", width=24),
    Column("人数", "number", 6),
    Column("申报", "number", 6),
    Column("状态", width=10),
    Column("创建时间", "datetime", 17),
)


def meetings_source(filters: dict, ctx: CallContext) -> Source:
    condition, args = meetings_query(ListMeetings.model_validate(filters), ctx.actor)

    def convert(r) -> tuple:
        return (
            r["meets_on"],
            r["starts_at"].strftime("%H:%M"),
            r["committee_name"],
            r["department_name"],
            r["round_name"],
            r["place"],
            r["size"],
            r["case_count"],
            phase_of(r).label,
            excel_time(r["created_at"]),
        )

    return Source(
        title="评审会议",
        columns=MEETING_COLUMNS,
        sql=f"{MEETING} WHERE {condition} ORDER BY {MEETINGS_ORDER}",
        args=args,
        convert=convert,
        count_sql=f"SELECT count(*) FROM meetings m WHERE {condition}",
    )


# --- 失信记录 (the sysadmin's, a department's own) ---

DISCREDIT_COLUMNS = (
    Column("姓名", width=10),
    Column("身份证号", width=20),
    Column("失信原因", width=36),
    Column("记录开始", "date", 12),
    Column("年限", "number", 6),
    Column("记录截止", "date", 12),
    Column("状态", width=8),
    Column("记录部门", width=18),
    Column("记录人", width=10),
    Column("记录时间", "datetime", 17),
    Column("业务编号", width=18),
    Column("终止时间", "datetime", 17),
    Column("终止人", width=10),
    Column("终止原因", width=24),
)


def discredits_source(filters: dict, ctx: CallContext) -> Source:
    today = ctx.deps.clock.today()
    clause, args = discredits_query(ListDiscredits.model_validate(filters), ctx, today)

    def convert(r) -> tuple:
        # only the sysadmin and the department that recorded an entry list it, and both may
        # see its number (显示完整号码 on a 失信 record: handlers/personal.py)
        return (
            r["name"],
            sealed.unseal(r["id_number"], sealed.DISCREDIT_ID_NUMBER),
            r["reason"],
            r["starts_on"],
            r["years"],
            r["last_day"],
            discredits.status_of(r, today).label,
            r["department"],
            r["recorded_by_name"],
            excel_time(r["recorded_at"]),
            r["case_no"],
            excel_time(r["ended_at"]),
            r["ended_by_name"],
            r["end_reason"],
        )

    return Source(
        title="失信记录",
        columns=DISCREDIT_COLUMNS,
        sql=(
            f"SELECT {discredits.COLUMNS} FROM {discredits.FROM} WHERE {clause}"
            f" ORDER BY {DISCREDITS_ORDER}"
        ),
        args=args,
        convert=convert,
        full_fields=["id_number"],
        count_sql=f"SELECT count(*) FROM {discredits.FROM} WHERE {clause}",
    )


# --- 证书登记簿 (the sysadmin's, a department's) ---

REGISTER_EXPORT_COLUMNS = (
    Column("证书编号", width=20),
    Column("持证人", width=10),
    Column("身份证号", width=20),
    Column("资格名称", width=20),
    Column("系列", width=14),
    Column("级别", width=6),
    Column("评委会", width=28),
    Column("评审通过日期", "date", 12),
    Column("发证日期", "date", 12),
    Column("状态", width=8),
    Column("撤销日期", "date", 12),
    Column("撤销原因", width=30),
    Column("撤销人", width=10),
    Column("发证单位", width=18),
    Column("业务编号", width=18),
    Column("签发时间", "datetime", 17),
)


def certificates_source(filters: dict, ctx: CallContext) -> Source:
    clause, args, order = register_query(ListCertificates.model_validate(filters), ctx.actor)

    def convert(r) -> tuple:
        # only the sysadmin and the departments list them, and both may see the number
        # (显示完整号码 on a certificate: handlers/personal.py)
        revoked = r["revoked_at"]
        return (
            r["certificate_no"],
            r["holder_name"],
            sealed.unseal(r["id_number"], sealed.CERTIFICATE_ID_NUMBER),
            r["qualification"],
            r["series"],
            r["level"],
            r["committee"],
            r["passed_on"],
            r["issued_on"],
            CertificateStatus(r["status"]).label,
            local_date(revoked) if revoked else None,
            r["revoked_reason"],
            r["revoked_by_name"],
            r["department"],
            r["case_no"],
            excel_time(r["issued_at"]),
        )

    return Source(
        title="证书登记簿",
        columns=REGISTER_EXPORT_COLUMNS,
        sql=f"SELECT {REGISTER_COLUMNS} FROM {REGISTER_FROM} WHERE {clause} ORDER BY {order}",
        args=args,
        convert=convert,
        full_fields=["id_number"],
        count_sql=REGISTER_COUNT.format(clause),
    )


# --- 公示与异议 (the unit's and the department's cases under publicity) ---

PUBLICITY_EXPORT_COLUMNS = (
    Column("业务编号", width=18),
    Column("姓名", width=10),
    Column("专业技术资格", width=20),
    Column("系列", width=14),
    Column("评委会", width=28),
    Column("日常工作部门", width=18),
    Column("公示阶段", width=10),
    Column("公示开始", "date", 12),
    Column("公示截止", "date", 12),
    Column("业务状态", width=22),
    Column("异议", "number", 6),
    Column("待核实异议", "number", 8),
)


def publicity_source(filters: dict, ctx: CallContext) -> Source:
    clause, args = publicity_query(PublicityCasesQuery.model_validate(filters), ctx.actor)

    def convert(r) -> tuple:
        phase = phase_of_case(CaseState(r["state"])) or PublicityPhase.POST
        period = r[f"{phase.value}_publicity"] or {}
        return (
            r["case_no"],
            r["applicant_name"],
            r["qualification_name"],
            r["series_name"],
            r["committee_name"],
            r["department_name"],
            phase.label,
            excel_date(period.get("start")),
            excel_date(period.get("end")),
            r["status_label"],
            r["objections"],
            r["open_objections"],
        )

    return Source(
        title="公示与异议",
        columns=PUBLICITY_EXPORT_COLUMNS,
        sql=(
            f"SELECT {PUBLICITY_COLUMNS} FROM cases c{PUBLICITY_JOINS} WHERE {clause}"
            f" ORDER BY {PUBLICITY_ORDER}"
        ),
        args=args,
        convert=convert,
        count_sql=f"SELECT count(*) FROM cases c WHERE {clause}",
    )


SOURCES: dict[str, SourceOf] = {
    "work": work_source,
    "experts": experts_source,
    "meetings": meetings_source,
    "discredits": discredits_source,
    "objections": publicity_source,
    "certificates": certificates_source,
}
count, build_export = export_methods("cases", SOURCES, lambda ctx: ctx.deps.peers)
