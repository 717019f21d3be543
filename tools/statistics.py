"""Check or rebuild the statistics' tables from the case histories (docs/reports.md).

    python -m tools.statistics check      compare the kept sums with a sum from scratch
    python -m tools.statistics rebuild    compute them again (moves wait meanwhile)

`check` reads in one snapshot and prints how many cells differ in each table, the changes
not yet folded counted in (exit 1 if any): the kept sums are right when they equal the sum
of every case's contributions. `rebuild` is what migration 014 does; it holds the cases
still (moves wait) while it runs, about half a minute per 100,000 cases.
"""

import argparse
import asyncio
import sys

import asyncpg

from services.cases import statistics_store as store
from shared.settings import get_settings


async def _connect() -> asyncpg.Connection:
    return await asyncpg.connect(
        get_settings().database_url, server_settings={"search_path": "cases"}
    )


async def check() -> bool:
    conn = await _connect()
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            computed = await store.computed(conn)
            daily, totals = await store.kept(conn)
            kept = {store.DAILY: daily, store.TOTALS: totals}
    finally:
        await conn.close()
    wanted = {
        store.DAILY: {tuple(c): a for c, a in computed.items()},
        store.TOTALS: store.over_all_days(computed),
    }
    right = True
    for table, cells in wanted.items():
        differ = {
            k for k in cells.keys() | kept[table].keys() if cells.get(k) != kept[table].get(k)
        }
        print(f"{table}: {len(kept[table])} cells kept, {len(differ)} differ from the histories")
        right = right and not differ
    return right


async def rebuild() -> None:
    conn = await _connect()
    try:
        async with conn.transaction():
            cells = await store.rebuild(conn)
    finally:
        await conn.close()
    print(f"case_statistics rebuilt: {cells} cells")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("check", "rebuild"))
    args = parser.parse_args()
    if args.command == "check":
        sys.exit(0 if asyncio.run(check()) else 1)
    asyncio.run(rebuild())


if __name__ == "__main__":
    main()
