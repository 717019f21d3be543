"""The documents service's own figures (shared/metrics.py has those every process keeps)."""

from prometheus_client import Counter, Gauge

from shared.metrics import child

RENDER_WORKERS = Gauge("zc_render_workers", "Render worker processes of the pool.")
RENDER_BUSY = Gauge("zc_render_workers_busy", "Render workers running a task now.")
RENDER_WAITING = Gauge(
    "zc_render_queue_length", "Renders waiting for a free worker in this process now."
)
PRINT_JOBS = Gauge(
    "zc_print_jobs",
    "Print jobs not finished, in the whole service (every copy's), by state: queued (a"
    " running one whose lease ran out included) or running; read when scraped.",
    ["state"],
)
PRINT_JOBS_FINISHED = Counter(
    "zc_print_jobs_finished",
    "Print jobs this process finished, by outcome: done or failed.",
    ["outcome"],
)
RUN_STATES = ("queued", "running")


def observe_render_pool(pool) -> None:
    RENDER_WORKERS.set(pool.workers)
    RENDER_BUSY.set(pool.running)
    RENDER_WAITING.set(pool.waiting)


async def observe_print_jobs(db) -> None:
    """One query on the partial index of unfinished jobs."""
    rows = await db.fetch(
        "SELECT (CASE WHEN status = 'running' AND lease_until >= now() THEN 'running'"
        " ELSE 'queued' END) AS state, count(*) AS n FROM print_jobs"
        " WHERE status IN ('queued', 'running') GROUP BY 1"
    )
    found = {r["state"]: r["n"] for r in rows}
    for state in RUN_STATES:
        child(PRINT_JOBS, state).set(found.get(state, 0))
