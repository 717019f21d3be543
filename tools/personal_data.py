"""Sealed personal data: how many values each key sealed, and re-sealing after a key rotation.

    python -m tools.personal_data status [SERVICE ...]   values per key id, per column
    python -m tools.personal_data rotate [SERVICE ...]   re-seal under the first key of
                                                         ZC_PERSONAL_DATA_KEYS

Rotation: put the new key in front of ZC_PERSONAL_DATA_KEYS (keep the old one after it),
restart the services, run `rotate`, and remove the old key once `status` shows none under
it. Each service lists its sealed columns in services/<name>/sealed.py. docs/personal-data.md.
"""

import argparse
import asyncio
import importlib
import sys

import asyncpg

from shared.personal_data import PersonalDataError, count_by_key, keyring, reseal, seal_plain
from shared.settings import get_settings

SERVICES = ("accounts", "cases", "documents", "notify")


def sealed_columns(service: str) -> list:
    try:
        module = importlib.import_module(f"services.{service}.sealed")
    except ModuleNotFoundError:
        return []
    return list(module.COLUMNS)


async def seal_written(conn, service: str) -> int:
    """Seal what a loader wrote in the clear straight into `service`'s tables (the demo, the
    benchmarks' bulk data), as the service's migration sealed the rows it found."""
    path = await conn.fetchval("SHOW search_path")
    await conn.execute(f'SET search_path TO "{service}"')
    try:
        return sum([await seal_plain(conn, keyring(), c) for c in sealed_columns(service)])
    finally:
        await conn.execute(f"SET search_path TO {path}")


async def run(command: str, services: list[str]) -> bool:
    ring = keyring()
    ok = True
    for service in services:
        conn = await asyncpg.connect(
            get_settings().database_url, server_settings={"search_path": service}
        )
        try:
            for column in sealed_columns(service):
                where = f"{service}.{column.table}.{column.json_key or column.column}"
                if command == "rotate":
                    try:
                        changed = await reseal(conn, ring, column)
                    except PersonalDataError as exc:
                        print(f"{where}: NOT re-sealed: {exc}")
                        ok = False
                        continue
                    print(f"{where}: {changed} re-sealed under {ring.current}")
                counts = await count_by_key(conn, column)
                shown = ", ".join(f"{k} {n}" for k, n in counts.items()) or "empty"
                print(f"{where}: {shown}")
                ok = ok and "plain" not in counts
        finally:
            await conn.close()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["status", "rotate"])
    parser.add_argument("services", nargs="*", choices=[[], *SERVICES], default=[])
    args = parser.parse_args()
    try:
        keyring()
    except PersonalDataError as exc:
        parser.error(str(exc))
    sys.exit(0 if asyncio.run(run(args.command, args.services or list(SERVICES))) else 1)


if __name__ == "__main__":
    main()
