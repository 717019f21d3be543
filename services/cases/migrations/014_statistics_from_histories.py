"""Fill the statistics (013) from the cases and histories already there. The cases are held
still meanwhile (statistics_store.rebuild): a copy of the service still running waits."""

from services.cases.statistics_store import rebuild


async def apply(conn) -> None:
    await rebuild(conn)
