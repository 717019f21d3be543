"""Verify and purge the services' audit trails (docs/audit.md).

    python -m tools.audit verify [SERVICE ...]                 walk each chain; exit 1 if broken
    python -m tools.audit purge [SERVICE ...] [--keep-days N]  delete rows past keeping

Without a service name, every service's trail (accounts, cases, documents, notify). `verify`
prints one line per service: the rows checked and the chain's head (keep that line: a head
seen before that is no longer in the chain means rows were rewritten), or the first row that
was changed, deleted or inserted. `purge` deletes rows older than ZC_AUDIT_KEEP_DAYS (at
least 180) and records the new anchor, so the rest still verifies.
"""

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime

import asyncpg
from pydantic import ValidationError

from shared import correlation
from shared.audit_chain import MIN_KEEP_DAYS, AuditSettings, ChainBroken, purge, verify
from shared.settings import get_settings

SERVICES = ("accounts", "cases", "documents", "notify")
SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


async def _connect(schema: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        get_settings().database_url, server_settings={"search_path": schema}
    )


async def verify_service(schema: str) -> bool:
    conn = await _connect(schema)
    try:
        report = await verify(conn)
    finally:
        await conn.close()
    if report.intact:
        print(
            f"{schema}: intact, {report.rows} rows after anchor {report.anchor_seq};"
            f" head {report.head_seq} {report.head_hash}"
        )
        return True
    problem = report.problem
    print(f"{schema}: BROKEN at row {problem.seq} ({problem.kind}): {problem.message}")
    return False


async def purge_service(schema: str, keep_days: int) -> bool:
    conn = await _connect(schema)
    try:
        purged = await purge(conn, keep_days, datetime.now(UTC))
    except ChainBroken as broken:
        problem = broken.problem
        print(f"{schema}: not purged, the chain is broken at row {problem.seq}: {problem.message}")
        return False
    finally:
        await conn.close()
    print(
        f"{schema}: purged {purged.rows} rows older than {purged.cutoff:%Y-%m-%d %H:%M} UTC;"
        f" anchor now {purged.through_seq}"
    )
    return True


async def run(command: str, services: list[str], keep_days: int) -> bool:
    correlation.request_id.set(correlation.new_request_id())  # on the purge's own row
    results = []
    for schema in services:
        if command == "verify":
            results.append(await verify_service(schema))
        else:
            results.append(await purge_service(schema, keep_days))
    return all(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["verify", "purge"])
    parser.add_argument("services", nargs="*", help="their schemas (default: all four)")
    parser.add_argument("--keep-days", type=int, help="default: ZC_AUDIT_KEEP_DAYS (180)")
    args = parser.parse_intermixed_args()
    for name in args.services:
        if not SCHEMA.fullmatch(name):
            parser.error(f"not a schema name: {name!r}")
    try:
        keep_days = args.keep_days or AuditSettings().keep_days
    except ValidationError:
        parser.error(f"ZC_AUDIT_KEEP_DAYS: audit rows are kept at least {MIN_KEEP_DAYS} days")
    if keep_days < MIN_KEEP_DAYS:
        parser.error(f"--keep-days: audit rows are kept at least {MIN_KEEP_DAYS} days")
    ok = asyncio.run(run(args.command, args.services or list(SERVICES), keep_days))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
