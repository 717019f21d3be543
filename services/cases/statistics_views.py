"""Reading the statistics' cells (statistics_store keeps them): one query, the asker's scope
and the filters in its WHERE, each figure grouped only by what it is shown by.

Without dates it reads the sums over all days (case_statistics_totals: a few thousand rows
on 100,000 cases). With dates it adds up the days asked in the daily table, or, when the
days left out are fewer, takes the sums over all days minus the days left out: either way
the same figures, from the smaller share of the daily table. The changes not yet folded
into the sums are added in (docs/reports.md "How it stays fast", with the plans).
"""

from datetime import date

from services.cases.domain.statistics import Figure
from services.cases.scope import statistics_visibility
from services.cases.statistics_store import CHANGES, DAILY, TOTALS
from shared.contracts.cases.statistics import StatisticsQuery
from shared.rpc import Actor

# What the daily table covers: two probes of its index on on_day.
SPAN = "SELECT min(on_day) AS first, max(on_day) AS last FROM case_statistics"
COLUMNS = (
    "figure, key, detail, round_id, qualification_id, committee_id, department_id, {sign}n AS n,"
    " {sign}seconds AS seconds"
)
SUMS = "sum(n)::bigint AS n, sum(seconds)::bigint AS seconds"
# Stays are shown by state and length only; the other figures by what their tables show.
STAYS = (
    "SELECT figure, key, detail, '' AS round_id, '' AS qualification_id, '' AS committee_id,"
    f" '' AS department_id, {SUMS} FROM ({{source}}) c WHERE figure = 'stay'"
    " GROUP BY figure, key, detail"
)
OTHERS = (
    "SELECT figure, key, detail,"
    " CASE WHEN figure = 'case' THEN round_id ELSE '' END AS round_id,"
    " CASE WHEN figure = 'case' THEN qualification_id ELSE '' END AS qualification_id,"
    " CASE WHEN figure IN ('case', 'committee') THEN committee_id ELSE '' END AS committee_id,"
    " CASE WHEN figure = 'case' THEN department_id ELSE '' END AS department_id,"
    f" {SUMS} FROM ({{source}}) c WHERE figure IN ({{others}}) GROUP BY 1, 2, 3, 4, 5, 6, 7"
)
# named, not "<> 'stay'": each figure's days are then a range of the primary key
OTHER_FIGURES = ", ".join(f"'{f.value}'" for f in Figure if f is not Figure.STAY)


def cells_query(
    params: StatisticsQuery, actor: Actor, span: tuple[date, date] | None = None
) -> tuple[str, list]:
    """The query and its arguments. `span`: the first and last day of the daily table (SPAN),
    which decides, when dates are given, whether the days asked or the days left out are
    read."""
    condition, args = statistics_visibility(actor, 1)
    where = [condition]
    for column, value in (
        ("round_id", params.round_id),
        ("committee_id", params.committee_id),
        ("department_id", params.department_id),
    ):
        if value:
            args.append(value)
            where.append(f"c.{column} = ${len(args)}")
    inside, outside = [], []
    for bound, beyond, value in ((">=", "<", params.date_from), ("<=", ">", params.date_to)):
        if value:
            args.append(value)
            inside.append(f"c.on_day {bound} ${len(args)}")
            outside.append(f"c.on_day {beyond} ${len(args)}")
    if not inside:
        parts = [(TOTALS, where, ""), (CHANGES, where, "")]
    elif fewer_left_out(params, span):
        left_out = f"({' OR '.join(outside)})"
        parts = [(TOTALS, where, ""), (DAILY, [*where, left_out], "-")]
        parts.append((CHANGES, [*where, *inside], ""))
    else:
        parts = [(DAILY, [*where, *inside], ""), (CHANGES, [*where, *inside], "")]
    source = " UNION ALL ".join(
        f"SELECT {COLUMNS.format(sign=sign)} FROM {table} c WHERE {' AND '.join(conditions)}"
        for table, conditions, sign in parts
    )
    others = OTHERS.format(source=source, others=OTHER_FIGURES)
    return f"{STAYS.format(source=source)} UNION ALL {others}", args


def fewer_left_out(params: StatisticsQuery, span: tuple[date, date] | None) -> bool:
    """Whether the daily table has fewer days outside the dates asked than inside them."""
    if span is None or span[0] is None:
        return False
    first, last = span
    start = max(first, params.date_from or first)
    end = min(last, params.date_to or last)
    inside = max(0, (end - start).days + 1)
    return (last - first).days + 1 - inside < inside


async def read_cells(conn, params: StatisticsQuery, actor: Actor) -> list:
    span = None
    if params.date_from or params.date_to:
        row = await conn.fetchrow(SPAN)
        span = (row["first"], row["last"])
    sql, args = cells_query(params, actor, span)
    return await conn.fetch(sql, *args)
