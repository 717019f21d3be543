"""What every process counts, in Prometheus' text format (prometheus-client): the contract.

Each process keeps its own registry (the library's default one) and serves it on its own port
(`ZC_METRICS_PORT`, shared/metrics_server.py); a scraper adds which process it read. The
services' own figures (case transitions, SMS, the render pool, print jobs) are in their
`metrics.py`; docs/operations.md says what each means and when it means trouble.

These sit on hot paths, so a labelled child is looked up once and kept (`child`): an
increment then costs about a microsecond. Label values come from the code's own vocabulary
(method names the router serves, error codes, route patterns), never from a caller's text.
"""

import gc
import time
from functools import lru_cache

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.metrics import MetricWrapperBase

# No `_created` twin of every counter and histogram series: half the output, nothing lost
# that rate() needs.
disable_created_metrics()

# Seconds: an RPC or a page takes milliseconds; a render or a batch can take seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

GC_PAUSE_SECONDS = Histogram(
    "zc_gc_pause_seconds",
    "Pauses of Python's garbage collector in this process, by generation: while it runs the"
    " process answers nothing, so every request in it waits.",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)
RPC_SERVER_CALLS = Counter(
    "zc_rpc_server_calls",
    "RPC requests this process answered, by service, method and outcome (ok or the error code).",
    ["service", "method", "outcome"],
)
RPC_SERVER_SECONDS = Histogram(
    "zc_rpc_server_duration_seconds",
    "Time from reading an RPC request to having its reply, by service and method.",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
RPC_CLIENT_CALLS = Counter(
    "zc_rpc_client_calls",
    "RPC calls this process made, by the service called, method and outcome (ok or the error"
    " code; service_unavailable for no answer in time or the broker away).",
    ["service", "method", "outcome"],
)
RPC_CLIENT_SECONDS = Histogram(
    "zc_rpc_client_duration_seconds",
    "Time an RPC call took as its caller saw it (queueing and broker included), by service and"
    " method.",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
RPC_IN_FLIGHT = Gauge(
    "zc_rpc_server_in_flight",
    "RPC requests being handled by this process now (at most ZC_RPC_PREFETCH).",
    ["service"],
)
HTTP_REQUESTS = Counter(
    "zc_http_requests",
    "HTTP requests the gateway answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "zc_http_request_duration_seconds",
    "Time the gateway took to answer, by route pattern and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
SESSION_CHECKS = Counter(
    "zc_gateway_session_checks",
    "Session cookies the gateway checked, by answer: cache (from this copy's cache, no call),"
    " accounts (asked accounts), refused (accounts answered 401). gateway/sessions.py.",
    ["answer"],
)
SESSION_CACHE_ENTRIES = Gauge(
    "zc_gateway_session_cache_entries", "Sessions this gateway copy holds in its cache."
)
SESSION_CACHE_SUBSCRIBED = Gauge(
    "zc_gateway_session_cache_subscribed",
    "1 while this gateway copy receives accounts.sessions.changed (its cache on), else 0.",
)
OUTBOX_PUBLISHED = Counter(
    "zc_outbox_published",
    "Events the outbox relay published (broker-confirmed), by the service that wrote them.",
    ["service"],
)
OUTBOX_UNSENT = Gauge(
    "zc_outbox_unsent",
    "Outbox rows not yet published, read when scraped.",
    ["service"],
)
OUTBOX_OLDEST_UNSENT = Gauge(
    "zc_outbox_oldest_unsent_seconds",
    "Age of the oldest outbox row not yet published (0 when none), read when scraped.",
    ["service"],
)
EVENTS_CONSUMED = Counter(
    "zc_events_consumed",
    "Events delivered to a consumer, by consumer, event type and outcome: handled, duplicate"
    " (already in the inbox), retired (type no longer consumed), failed (handler raised: retried"
    " later), rejected (cannot be understood: dead-lettered; event_type '-').",
    ["consumer", "event_type", "outcome"],
)
EVENT_SECONDS = Histogram(
    "zc_event_handling_duration_seconds",
    "Time to handle one event (its transaction included), by consumer and event type.",
    ["consumer", "event_type"],
    buckets=LATENCY_BUCKETS,
)
INBOX_DUPLICATES = Counter(
    "zc_inbox_duplicates",
    "Deliveries of an event its consumer had already handled, skipped by the inbox.",
    ["consumer"],
)
EVENTS_RETRIED = Counter(
    "zc_events_retried",
    "Events whose handler failed, sent to a retry queue to come back later.",
    ["consumer"],
)
EVENTS_DEAD_LETTERED = Counter(
    "zc_events_dead_lettered",
    "Events this process sent to its dead-letter queue (unreadable, or retries spent).",
    ["consumer"],
)
DB_POOL_SIZE = Gauge(
    "zc_db_pool_connections", "Connections open in the process's database pool.", ["service"]
)
DB_POOL_IN_USE = Gauge(
    "zc_db_pool_in_use", "Connections of the database pool in use now.", ["service"]
)
DB_POOL_MAX = Gauge(
    "zc_db_pool_max_connections", "The most connections the pool will open.", ["service"]
)


@lru_cache(maxsize=8192)
def child(metric: MetricWrapperBase, *labels: str):
    """The metric's series for these label values, looked up once."""
    return metric.labels(*labels)


def count(metric: Counter, *labels: str, amount: float = 1) -> None:
    child(metric, *labels).inc(amount)


def observe(metric: Histogram, seconds: float, *labels: str) -> None:
    child(metric, *labels).observe(seconds)


def time_garbage_collections() -> None:
    """Every collection's pause into GC_PAUSE_SECONDS: a gateway pausing 30-40 ms every two
    seconds was what held the votes' p99 up (bench/README.md, "No cycle per request")."""
    if _on_collection in gc.callbacks:
        return
    gc.callbacks.append(_on_collection)


_GC_PAUSES = [GC_PAUSE_SECONDS.labels(str(generation)) for generation in range(3)]
_gc_started = [0.0]


def _on_collection(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        _GC_PAUSES[info["generation"]].observe(time.perf_counter() - _gc_started[0])


def observe_pool(service: str, pool) -> None:
    """The database pool's figures (asyncpg), as they are at this moment."""
    size = pool.get_size()
    child(DB_POOL_SIZE, service).set(size)
    child(DB_POOL_IN_USE, service).set(size - pool.get_idle_size())
    child(DB_POOL_MAX, service).set(pool.get_max_size())


# RPC answers that mean the service, not the caller, failed.
ERROR_OUTCOMES = frozenset({"internal", "contract_broken", "database_unavailable"})


def summary(service: str) -> dict[str, float]:
    """This process's key figures for `service`, as the sysadmin's page shows them (the
    gauges as last read: refresh them first)."""
    return {
        "rpc_errors": int(_total(RPC_SERVER_CALLS, ERROR_OUTCOMES, service=service)),
        "events_handled": int(_total(EVENTS_CONSUMED, {"handled"}, consumer=service)),
        "events_failed": int(_total(EVENTS_CONSUMED, {"failed", "rejected"}, consumer=service)),
        "events_dead_lettered": int(_total(EVENTS_DEAD_LETTERED, None, consumer=service)),
        "inbox_duplicates": int(_total(INBOX_DUPLICATES, None, consumer=service)),
        "outbox_unsent": int(_total(OUTBOX_UNSENT, None, service=service)),
        "outbox_oldest_seconds": round(_total(OUTBOX_OLDEST_UNSENT, None, service=service), 1),
        "db_pool_in_use": int(_total(DB_POOL_IN_USE, None, service=service)),
        "db_pool_size": int(_total(DB_POOL_SIZE, None, service=service)),
        "db_pool_max": int(_total(DB_POOL_MAX, None, service=service)),
    }


def _values(metric: MetricWrapperBase, **labels: str) -> list[tuple[str | None, float]]:
    """(outcome, value) of each series of `metric` with these labels."""
    return [
        (sample.labels.get("outcome"), sample.value)
        for family in metric.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
        and all(sample.labels.get(k) == v for k, v in labels.items())
    ]


def _total(metric: MetricWrapperBase, outcomes, **labels: str) -> float:
    """The sum over its series with these labels (and one of `outcomes`, when given)."""
    return sum(v for o, v in _values(metric, **labels) if outcomes is None or o in outcomes)
