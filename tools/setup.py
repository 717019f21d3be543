"""Create the database and apply every service's migrations: `python -m tools.setup`.

Also makes the development key and CA that sign the e-certificates, under
<ZC_VAR_DIR>/signing/, when no signing key is configured (ZC_SIGNING_KEY_FILE) and they are
not there yet (services/documents/signing.py).

With --demo, also load the demo accounts (tools.demo) when they are not there yet, and the
demo cases (tools.demo_cases) when the demo units have none.
"""

import argparse
import asyncio
import logging
import time

from services.documents.signing import CertificateSettings, ensure_development_keys
from shared.logs import setup_logging
from shared.settings import get_settings
from tools.migrate import migrate_all

log = logging.getLogger("setup")


async def setup(demo: bool = False) -> None:
    settings = get_settings()
    await migrate_all(settings.database_url)
    if not CertificateSettings().configured:
        keys = ensure_development_keys(settings.var_dir)
        log.info("e-certificates are signed with the development key %s", keys.key_file)
    if demo:
        from tools.demo import load_demo, load_reference, save_and_print
        from tools.demo_cases import load_demo_cases

        await load_reference(settings)
        save_and_print(settings, await load_demo(settings))
        started = time.monotonic()
        created = await load_demo_cases(settings)
        log.info("demo cases: %d created (%.1fs)", created, time.monotonic() - started)


if __name__ == "__main__":
    setup_logging(get_settings().log_level, "setup")
    parser = argparse.ArgumentParser(description="Create the database and apply migrations.")
    parser.add_argument("--demo", action="store_true", help="also load the demo accounts and cases")
    asyncio.run(setup(parser.parse_args().demo))
