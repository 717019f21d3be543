"""Step time limits as the lists and home pages show them: each row's 超期 mark and last day,
and the SQL that counts the overdue cases of many states at once (domain/deadlines.py)."""

from dataclasses import dataclass
from datetime import date

from services.cases.domain.calendar import WorkingCalendar, local_date, start_of_day
from services.cases.domain.deadlines import StepLimits, deadline_of, overdue_cutoffs
from services.cases.holidays import load_calendar
from shared.contracts.cases.vocabulary import CaseState


@dataclass(frozen=True)
class Deadlines:
    """Today's deadlines: what a request needs to mark its rows."""

    today: date
    limits: StepLimits
    calendar: WorkingCalendar

    def of(self, row) -> dict:
        """{overdue, due_on} of a case row (state, state_since)."""
        return self.entered_on(row["state"], local_date(row["state_since"]))

    def entered_on(self, state: str, day: date) -> dict:
        """{overdue, due_on} of a case that entered `state` on `day` (Shenzhen's)."""
        found = deadline_of(CaseState(state), day, self.today, self.limits, self.calendar)
        if found is None:
            return {"overdue": False, "due_on": None}
        return {"overdue": found.overdue, "due_on": found.due_on.isoformat()}

    def cutoffs(self) -> tuple[list[str], list]:
        """The states with a limit, and for each the moment before which a case that entered
        it is overdue today: the arguments of OVERDUE_JOIN."""
        found = overdue_cutoffs(self.today, self.limits, self.calendar)
        return [s.value for s in found], [start_of_day(day) for day in found.values()]


async def deadlines_today(conn, deps) -> Deadlines:
    return Deadlines(deps.clock.today(), deps.settings.limits(), await load_calendar(conn))


def _cutoffs(first_arg: int) -> str:
    """`lim` (state, cutoff): Deadlines.cutoffs() as the arguments numbered from first_arg."""
    return f"unnest(${first_arg}::text[], ${first_arg + 1}::timestamptz[]) AS lim (state, cutoff)"


def overdue_join(first_arg: int) -> str:
    """Joins `lim` (state, cutoff) to `c` for the states with a limit: `OVERDUE` holds for a
    case waiting past its limit. Arguments: Deadlines.cutoffs(), numbered from first_arg."""
    return f" LEFT JOIN {_cutoffs(first_arg)} ON lim.state = c.state"


OVERDUE = "coalesce(c.state_since < lim.cutoff, false)"


def overdue_only_join(first_arg: int) -> str:
    """`c` restricted to the cases waiting past their step's limit (the arguments as
    overdue_join's): the states without a limit are never read, and for those with one, the
    party's index gives its cases in each, their state_since beside them."""
    return f" JOIN {_cutoffs(first_arg)} ON lim.state = c.state AND c.state_since < lim.cutoff"
