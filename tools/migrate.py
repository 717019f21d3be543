"""Apply every service's migrations, then exit: `python -m tools.migrate [SERVICE ...]`.

What each service does at start (shared/service.py): create the database if it is missing,
then its schema's migrations under an advisory lock, so this may run while copies of the
services start (the Kubernetes migration Job, deploy/k8s/base/migrate-job.yaml). Unlike
`tools.setup` it makes no development signing key and loads no demo data. It refuses the
development personal-data keys under ZC_PRODUCTION=true before a migration seals anything
with them. Exit status 0 when every schema is up to date, 1 (with the error) otherwise.
"""

import argparse
import asyncio
import logging
import sys

from shared.db import database_name, ensure_database
from shared.logs import setup_logging
from shared.migrations import migrate_service
from shared.personal_data import check_production_keys
from shared.settings import get_settings

SERVICES = ("accounts", "cases", "documents", "notify")
log = logging.getLogger("migrate")


async def migrate_all(database_url: str, services: tuple[str, ...] = SERVICES) -> dict:
    """{service: migrations applied now}, in the order given."""
    check_production_keys()
    if await ensure_database(database_url):
        log.info("created database %s", database_name(database_url))
    applied = {}
    for service in services:
        applied[service] = await migrate_service(database_url, service)
        log.info("%s: %s", service, ", ".join(applied[service]) or "up to date")
    return applied


def main() -> None:
    parser = argparse.ArgumentParser(description="Apply every service's migrations and exit.")
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    args = parser.parse_args()
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"no such service: {', '.join(unknown)} (known: {', '.join(SERVICES)})")
    settings = get_settings()
    setup_logging(settings.log_level, "migrate")
    try:
        asyncio.run(migrate_all(settings.database_url, tuple(args.services) or SERVICES))
    except Exception:
        log.exception("migrations failed; what was applied before the failing one stays")
        sys.exit(1)


if __name__ == "__main__":
    main()
