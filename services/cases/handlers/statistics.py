"""统计查询: the figures over the cases an actor may see, added up from the statistics'
cells (statistics_store keeps them, statistics_views reads them), and the same figures as an
Excel workbook.

A query of the reference names, one of the cells, and for the units with the most returns
their names from accounts. docs/reports.md "Statistics" defines every figure.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from services.cases.domain.statistics import (
    FAILED,
    PASSED,
    STEP_OF_STATE,
    Figure,
    percentile_days,
)
from services.cases.scope import statistics_visibility
from services.cases.statistics_views import read_cells
from services.cases.statistics_workbook import workbook
from shared.audit import Entry, record
from shared.contracts.accounts.rpc import UNITS_NAMES
from shared.contracts.cases.statistics import TOP_RETURNING_UNITS, StatisticsQuery
from shared.contracts.cases.vocabulary import CaseState, Outcome
from shared.contracts.cases.work_lists import WORK_LISTS
from shared.rpc import Actor, Attached, CallContext, RpcError
from shared.spreadsheet import XLSX

S = CaseState

REFERENCE = """
SELECT 'round' AS kind, id, name, '' AS parent, to_char(opens_on, 'YYYYMMDD') AS sort
    FROM rounds
UNION ALL SELECT 'department', id, name, '', name FROM departments
UNION ALL SELECT 'committee', id, name, department_id, name FROM committees
UNION ALL SELECT 'qualification', q.id, q.name, '',
    lpad(s.position::text, 4, '0') || lpad(q.position::text, 4, '0') || q.name
    FROM qualifications q JOIN series s ON s.id = q.series_id
"""
STEP_TITLES = {int(w.key.split(":")[1]): w.title for w in WORK_LISTS.values() if w.party == "unit"}


@dataclass(frozen=True)
class Reference:
    """The names of rounds, departments, committees and qualifications, in their order."""

    names: dict[str, dict[str, str]]  # kind -> id -> name, ordered
    department_of: dict[str, str]  # committee -> its department

    @classmethod
    def of(cls, rows) -> "Reference":
        names: dict[str, dict[str, str]] = defaultdict(dict)
        rows = sorted(rows, key=lambda r: (r["kind"], r["sort"]))
        for row in rows:
            names[row["kind"]][row["id"]] = row["name"]
        names["round"] = dict(reversed(names["round"].items()))  # the latest first
        department_of = {r["id"]: r["parent"] for r in rows if r["kind"] == "committee"}
        return cls(names, department_of)

    def name(self, kind: str, key: str) -> str:
        return self.names[kind].get(key, key)


# --- the RPC methods ---


async def export(params: StatisticsQuery, ctx: CallContext) -> Attached:
    """The figures as a workbook; the export is recorded with who and which filters."""
    shown = await statistics(params, ctx)
    now = ctx.deps.clock.now()
    content = workbook(shown, now)
    entry = Entry(
        "export",
        "statistics",
        object_label="统计查询",
        details={"filters": shown["filters"], "scope": shown["scope"]},
    )
    async with ctx.pool.acquire() as conn:
        await record(conn, ctx.actor, entry, at=now)
    return Attached(
        {
            "filename": f"统计查询-{now.strftime('%Y%m%d%H%M')}.xlsx",
            "content_type": XLSX,
        },
        content,
    )


async def statistics(params: StatisticsQuery, ctx: CallContext) -> dict:
    statistics_visibility(ctx.actor, 1)  # who may ask at all comes before what they ask
    reference = Reference.of(await ctx.pool.fetch(REFERENCE))
    _check_filters(params, ctx.actor, reference)
    async with ctx.pool.acquire() as conn:
        rows = await read_cells(conn, params, ctx.actor)
    sums = _Sums.of(rows)
    returns = await _top_returns(ctx, sums.returns)
    return {
        "scope": _scope_label(ctx.actor, reference),
        "filters": {
            "round_id": params.round_id,
            "date_from": params.date_from.isoformat() if params.date_from else None,
            "date_to": params.date_to.isoformat() if params.date_to else None,
            "committee_id": params.committee_id,
            "department_id": params.department_id,
        },
        "choices": _choices(ctx.actor, reference),
        **sums.tables(reference),
        "returns": returns,
    }


# --- who may choose what ---


def _check_filters(params: StatisticsQuery, actor: Actor, reference: Reference) -> None:
    errors = {}
    if params.round_id and params.round_id not in reference.names["round"]:
        errors["round_id"] = "没有这个评审年度"
    if params.date_from and params.date_to and params.date_from > params.date_to:
        errors["date_to"] = "截止日期不能早于起始日期"
    committees = _choices(actor, reference)["committees"]
    if params.committee_id and params.committee_id not in {c["id"] for c in committees}:
        errors["committee_id"] = _not_yours(actor, "评委会")
    departments = _choices(actor, reference)["departments"]
    if params.department_id and params.department_id not in {d["id"] for d in departments}:
        errors["department_id"] = _not_yours(actor, "日常工作部门")
    if errors:
        raise RpcError("invalid_input", next(iter(errors.values())), 422, errors)


def _not_yours(actor: Actor, what: str) -> str:
    if actor.role in ("office", "sysadmin"):
        return f"没有这个{what}"
    return f"只能查询本单位范围内的{what}"


def _choices(actor: Actor, reference: Reference) -> dict:
    def listed(kind: str, ids) -> list[dict]:
        return [{"id": i, "name": reference.names[kind][i]} for i in ids]

    rounds = listed("round", reference.names["round"])
    committees = reference.names["committee"]
    departments = reference.names["department"]
    if actor.role in ("office", "sysadmin"):
        return {
            "rounds": rounds,
            "committees": listed("committee", committees),
            "departments": listed("department", departments),
        }
    if actor.role == "department":
        own = [c for c in committees if reference.department_of.get(c) == actor.org_id]
        return {"rounds": rounds, "committees": listed("committee", own), "departments": []}
    return {"rounds": rounds, "committees": [], "departments": []}


def _scope_label(actor: Actor, reference: Reference) -> str:
    if actor.role == "sysadmin":
        return "全部申报"
    if actor.role == "office":
        return "需专技处前置审批的申报"
    if actor.role == "department":
        return f"{reference.name('department', actor.org_id or '')}受理的申报"
    return f"{reference.name('committee', actor.org_id or '')}评审的申报"


# --- the cells added up into the tables ---


def _counts() -> defaultdict:
    return defaultdict(int)


def _nested() -> defaultdict:
    return defaultdict(_counts)


@dataclass
class _Sums:
    states: dict[str, int] = field(default_factory=_counts)
    outcomes: dict[str, int] = field(default_factory=_counts)
    # round, qualification, committee, department -> its id -> cases
    by: dict[str, dict[str, int]] = field(default_factory=_nested)
    decisions: dict[str, dict[str, int]] = field(default_factory=_nested)  # figure -> result
    committee_decisions: dict[str, dict[str, int]] = field(default_factory=_nested)
    stays: dict[str, dict[int, int]] = field(default_factory=_nested)  # state -> days -> n
    stay_seconds: dict[str, int] = field(default_factory=_counts)
    returns: dict[str, dict[str, int]] = field(default_factory=_nested)  # unit -> from -> n

    @classmethod
    def of(cls, rows) -> "_Sums":
        sums = cls()
        for row in rows:
            sums._add(row)
        return sums

    def _add(self, row) -> None:
        figure, key, detail, n = row["figure"], row["key"], row["detail"], row["n"]
        if figure == Figure.CASE:
            self.states[key] += n
            if detail:
                self.outcomes[detail] += n
            for dimension in ("round", "qualification", "committee", "department"):
                self.by[dimension][row[f"{dimension}_id"]] += n
        elif figure == Figure.STAY:
            self.stays[key][int(detail)] += n
            self.stay_seconds[key] += row["seconds"]
        elif figure == Figure.RETURN:
            self.returns[key][detail] += n
        else:
            self.decisions[figure][key] += n
            if figure == Figure.COMMITTEE:
                self.committee_decisions[row["committee_id"]][key] += n

    def tables(self, reference: Reference) -> dict:
        return {
            "total": sum(self.states.values()),
            "by_state": [
                {
                    "key": s.value,
                    "label": s.label,
                    "step": STEP_OF_STATE[s],
                    "count": self.states.get(s.value, 0),
                }
                for s in CaseState
            ],  # fmt: skip
            "by_step": self._by_step(),
            "by_outcome": [
                {"key": o.value, "label": o.label, "count": self.outcomes.get(o.value, 0)}
                for o in Outcome
            ],
            "by_round": self._by(reference, "round"),
            "by_qualification": self._by(reference, "qualification"),
            "by_committee": self._by_committee(reference),
            "by_department": self._by(reference, "department"),
            "pass_rates": [
                _rate(f, label, self.decisions.get(f.value, {})) for f, label in PASS_RATES
            ],
            "step_days": [self._days(s) for s in CaseState if s is not S.CLOSED],
        }

    def _by_step(self) -> list[dict]:
        steps: dict[int | None, int] = {step: 0 for step in STEP_TITLES}
        steps[None] = 0
        for state in CaseState:
            steps[STEP_OF_STATE[state]] += self.states.get(state.value, 0)
        return [
            {"key": str(step or "closed"), "label": _step_title(step), "count": n}
            for step, n in steps.items()
        ]

    def _by(self, reference: Reference, kind: str) -> list[dict]:
        counts = self.by[kind]
        ordered = [i for i in reference.names[kind] if counts.get(i)]
        ordered += sorted(i for i in counts if counts[i] and i not in reference.names[kind])
        return [{"key": i, "label": reference.name(kind, i), "count": counts[i]} for i in ordered]

    def _by_committee(self, reference: Reference) -> list[dict]:
        counts, decided = self.by["committee"], self.committee_decisions
        shown = [c for c in reference.names["committee"] if counts.get(c) or c in decided]
        return [
            {
                "key": c,
                "label": reference.name("committee", c),
                "count": counts.get(c, 0),
                **_passed_failed(decided.get(c, {})),
            }
            for c in shown
        ]

    def _days(self, state: CaseState) -> dict:
        histogram = self.stays.get(state.value, {})
        stays = sum(histogram.values())
        seconds = self.stay_seconds.get(state.value, 0)
        return {
            "key": state.value,
            "label": state.label,
            "step": STEP_OF_STATE[state],
            "stays": stays,
            "average_days": round(seconds / stays / 86_400, 2) if stays else None,
            "p90_days": percentile_days(histogram),
        }


PASS_RATES = (
    (Figure.COMMITTEE, "评委会评审"),
    (Figure.PRE_PUBLICITY, "评前公示"),
    (Figure.POST_PUBLICITY, "评后公示"),
)


def _step_title(step: int | None) -> str:
    return "业务办结" if step is None else f"第{step}步 {STEP_TITLES[step]}"


def _passed_failed(counts: dict[str, int]) -> dict:
    passed, failed = counts.get(PASSED, 0), counts.get(FAILED, 0)
    return {
        "passed": passed,
        "failed": failed,
        "pass_rate": round(passed / (passed + failed), 4) if passed + failed else None,
    }


def _rate(figure: Figure, label: str, counts: dict[str, int]) -> dict:
    decided = _passed_failed(counts)
    return {"key": figure.value, "label": label, **decided,
            "total": decided["passed"] + decided["failed"]}  # fmt: skip


# --- the units with the most returns, by name (accounts keeps the units) ---


async def _top_returns(ctx: CallContext, returns: dict[str, dict[str, int]]) -> list[dict]:
    totals = {unit: sum(by_state.values()) for unit, by_state in returns.items()}
    top = sorted((u for u in totals if totals[u]), key=lambda u: (-totals[u], u))
    top = top[:TOP_RETURNING_UNITS]
    names = await _unit_names(ctx, top)
    return [
        {
            "unit_id": unit,
            "unit_name": names.get(unit) or f"单位 {unit[:8]}（名称暂不可用）",
            "returns": totals[unit],
            "at_acceptance": returns[unit].get(S.DEPT_ACCEPTANCE.value, 0),
            "at_review": returns[unit].get(S.DEPT_REVIEW.value, 0),
        }
        for unit in top
    ]


async def _unit_names(ctx: CallContext, unit_ids: list[str]) -> dict[str, str]:
    """The names accounts knows; none when it does not answer (the page still shows the
    figures, each unit by the start of its id)."""
    if not unit_ids or ctx.deps.peers is None:
        return {}
    try:
        answer = await ctx.deps.peers.invoke(UNITS_NAMES, {"unit_ids": unit_ids}, ctx.actor)
    except RpcError:
        return {}
    return answer["names"]
