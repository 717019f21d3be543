"""Every setting is an environment variable; the defaults run everything on one machine."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/zhicheng",
        description="PostgreSQL database; each service keeps its tables in a schema of its own.",
    )
    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="RabbitMQ broker.")
    broker_prefix: str = Field(
        "zc", description="Prefix of every exchange and queue name, so test runs never collide."
    )
    rpc_timeout: float = Field(5.0, description="Seconds the gateway waits for a service reply.")
    session_cache_seconds: float = Field(
        30.0,
        ge=0,
        description="Seconds a gateway copy trusts what it cached of a session before asking"
        " accounts again; revocations reach it at once as events (docs/security.md). 0: ask"
        " accounts on every request.",
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop", description="The event loop of every process (shared/event_loop.py)."
    )
    ready_timeout: float = Field(2.0, description="Seconds /readyz waits for every ping.")
    rpc_prefetch: int = Field(
        64,
        description="Requests one service process handles at once; the others wait in it for"
        " their turn, and one whose caller gave up meanwhile is dropped unrun (shared/rpc.py).",
    )
    rpc_check_results: bool = Field(
        False,
        description="Check every RPC result against its contract's model (shared/contracts);"
        " one that does not fit is logged and answered as an internal error. The tests do.",
    )
    event_prefetch: int = Field(16, description="Events one consumer process handles at once.")
    db_pool_min: int = Field(
        1,
        ge=1,
        description="Database connections a service process opens at start and keeps open:"
        " a pool that must grow in a burst opens a PostgreSQL backend per connection while"
        ' the burst waits (docs/operations.md, "Database pools").',
    )
    db_pool_max: int = Field(
        10, ge=1, description="Database connections a service process may open at most."
    )
    max_deliveries: int = Field(
        20,
        description="Deliveries of one event that end without an answer (its consumer killed"
        " each time) before it is dead-lettered.",
    )
    event_retry_delays: list[float] = Field(
        [1, 5, 15, 30, 60, 120],
        description="Seconds an event waits before each retry when its handler failed; once"
        " they are spent it is dead-lettered. JSON list, e.g. [1,5,15].",
    )
    outbox_poll_interval: float = Field(
        1.0, description="Seconds between outbox polls when no NOTIFY wakes the relay."
    )
    outbox_batch_size: int = Field(500, description="Outbox rows published per relay round.")
    outbox_round_gap: float = Field(
        0.005,
        description="Seconds at least between the starts of two relay rounds while events keep"
        " coming: the events of those milliseconds go in one round (one transaction) rather"
        " than one round each. 0: a round for every wake-up.",
    )
    gateway_host: str = Field("127.0.0.1", description="Address the gateway listens on.")
    gateway_port: int = Field(8080, description="Port the gateway listens on.")
    gateway_reuse_port: bool = Field(
        False,
        description="Several gateway copies on one machine share the port (SO_REUSEPORT: the"
        " kernel spreads the connections between them); tools.runall sets it for REPLICAS>1.",
    )
    https: bool = Field(
        False,
        description="The site is served over HTTPS (a TLS proxy in front): cookies are Secure"
        " with the __Host- prefix and Strict-Transport-Security is sent. Off for a local run.",
    )
    trusted_proxies: str = Field(
        "",
        description="Reverse proxies (addresses or networks, comma-separated) whose"
        " X-Forwarded-For names the client, e.g. 127.0.0.1,10.0.0.0/8; empty: none.",
    )
    stop_grace: float = Field(
        15.0,
        description="Seconds a stopping process (SIGTERM) gives the RPC calls and messages it"
        " is handling to finish, after it stopped taking new ones; what is still unfinished"
        " then is left unacknowledged, so the broker hands it to another copy.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["plain", "json"] = Field(
        "plain",
        description="plain: one readable line per record; json: one JSON object per line (time,"
        " level, process, logger, message, request_id, actor, case_id, exception).",
    )
    metrics_port: int = Field(
        0,
        description="Port of this process's /metrics, /healthz and /readyz (shared/"
        "metrics_server.py); 0: none. tools.runall gives each process its own (9100-9104).",
    )
    metrics_host: str = Field(
        "127.0.0.1",
        description="Address the metrics port listens on; 0.0.0.0 where a scraper or probe"
        " on another host reads it (a pod). Never the public side of a proxy.",
    )
    var_dir: str = Field("var", description="Folder for logs, the dev SMS outbox and files.")

    def name(self, *parts: str) -> str:
        """A broker object name under this run's prefix, e.g. zc.events."""
        return ".".join((self.broker_prefix, *parts))


@lru_cache
def get_settings() -> Settings:
    return Settings()
