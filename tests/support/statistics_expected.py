"""The statistics computed another way: in Python, straight from the rows of `cases` and
`case_history`, without the service's summary tables or its domain code. The tests compare
what the service answers with this (docs/reports.md "Statistics" defines each figure)."""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta, timezone

from shared.contracts.cases.vocabulary import CaseState
from tests.support.case_histories import ORDER

SHENZHEN = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Asker:
    role: str
    org_id: str | None = None


@dataclass(frozen=True)
class Filters:
    round_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    committee_id: str = ""
    department_id: str = ""

    def params(self) -> dict:
        return {
            "round_id": self.round_id,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "committee_id": self.committee_id,
            "department_id": self.department_id,
        }


async def rows_of(pool) -> tuple[list, dict]:
    """Every case, and every case's history in order."""
    cases = await pool.fetch("SELECT * FROM cases")
    history = defaultdict(list)
    for row in await pool.fetch("SELECT * FROM case_history ORDER BY id"):
        history[row["case_id"]].append(row)
    return cases, history


def sees(asker: Asker, case) -> bool:
    """scope.py's rule, written again over a row of `cases`."""
    if asker.role == "sysadmin":
        return True
    if asker.role == "department":
        return case["department_id"] == asker.org_id and case["reached_department"]
    if asker.role == "committee":
        return case["committee_id"] == asker.org_id and case["reached_committee"]
    if asker.role == "office":
        return case["reached_office"]
    return False


def _day(moment) -> date:
    return moment.astimezone(SHENZHEN).date()


def _within(filters: Filters, moment) -> bool:
    day = _day(moment)
    return (filters.date_from is None or day >= filters.date_from) and (
        filters.date_to is None or day <= filters.date_to
    )


def steps() -> dict[str, int | None]:
    """Each state's step: its own on the ten-step flow, else the last one before it."""
    found, last = {}, None
    for state in ORDER:
        last = state.step or last
        found[state.value] = last
    found[CaseState.CLOSED.value] = None
    return found


def expected(cases, history, asker: Asker, filters: Filters) -> dict:
    chosen = [
        c
        for c in cases
        if sees(asker, c)
        and (not filters.round_id or c["round_id"] == filters.round_id)
        and (not filters.committee_id or c["committee_id"] == filters.committee_id)
        and (not filters.department_id or c["department_id"] == filters.department_id)
    ]
    opened = [c for c in chosen if _within(filters, c["created_at"])]
    figures = {
        "total": len(opened),
        "by_state": Counter(c["state"] for c in opened),
        "by_outcome": Counter(c["outcome"] for c in opened if c["state"] == "closed"),
        "by_round": Counter(c["round_id"] for c in opened),
        "by_qualification": Counter(c["qualification_id"] for c in opened),
        "by_department": Counter(c["department_id"] for c in opened),
        "committee_cases": Counter(c["committee_id"] for c in opened),
    }
    by_step = Counter()
    for state, n in figures["by_state"].items():
        by_step[steps()[state]] += n
    figures["by_step"] = by_step
    figures |= _events(chosen, history, filters)
    return figures


def _events(chosen, history, filters: Filters) -> dict:
    decided = defaultdict(Counter)  # figure -> passed/failed
    by_committee = defaultdict(Counter)
    lengths = defaultdict(list)  # state -> seconds of each stay
    returns = defaultdict(Counter)  # unit -> from state
    for case in chosen:
        entered = case["created_at"]
        for row in history.get(case["id"], []):
            if row["from_state"] == row["to_state"]:
                continue  # a note: nothing moved
            if _within(filters, row["at"]):
                lengths[row["from_state"]].append((row["at"] - entered).total_seconds())
                _decision(row, case, decided, by_committee, returns)
            entered = row["at"]
    return {
        "decided": decided,
        "committee_decided": by_committee,
        "stays": {
            state: (len(found), sum(found) / len(found) / 86400, _p90(found))
            for state, found in lengths.items()
        },
        "returns": returns,
    }


def _decision(row, case, decided, by_committee, returns) -> None:
    action = row["action"]
    if action in ("pass_review", "fail_review"):
        result = "passed" if action == "pass_review" else "failed"
        decided["committee"][result] += 1
        by_committee[case["committee_id"]][result] += 1
    elif action == "record_pre_publicity_result":
        decided["pre_publicity"]["failed" if row["to_state"] == "closed" else "passed"] += 1
    elif action == "confirm":
        decided["post_publicity"]["passed" if row["outcome"] == "passed" else "failed"] += 1
    elif action == "return":
        returns[str(case["unit_id"])][row["from_state"]] += 1


def _p90(seconds: list[float]) -> int:
    """Nearest rank: the ceil(0.9 n)-th shortest stay, in whole days rounded up."""
    ranked = sorted(math.ceil(round(s) / 86400) for s in seconds)
    return ranked[-(-9 * len(ranked) // 10) - 1]
