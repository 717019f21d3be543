"""Who a session belongs to, without asking accounts on every request.

Each gateway copy keeps what accounts answered for a session token for a short while
(`ZC_SESSION_CACHE_SECONDS`) and answers from it by itself: the session's absolute end and
its idle limit are checked here, and each use counts as activity that the next question to
accounts reports (`last_active`), so the idle expiry users see is unchanged and no request
writes to the database.

Revocation does not wait for the cache to age: every change that ends a session or alters
its user (logout, password change, an account or unit disabled, a name or role changed) is
an `accounts.sessions.changed` event, written by triggers in accounts' own tables, which
every copy receives on an exclusive queue of its own and drops those entries. A copy that
is not subscribed (starting, or its broker connection lost: it may have missed events)
caches nothing and asks accounts every time; it empties the cache again once resubscribed.
docs/security.md, "Sessions", has the reasoning.
"""

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from shared import amqp
from shared.contracts.accounts.events import SESSIONS_CHANGED
from shared.topology import Names, declare_events_exchange

log = logging.getLogger(__name__)

MAX_ENTRIES = 100_000  # a day's sessions of a city fit; past it the oldest go first


@dataclass
class Entry:
    session: dict  # accounts' answer (auth.session)
    fetched: float  # time.monotonic() when accounts answered
    expires_at: datetime
    idle: timedelta
    last_active: datetime  # this copy's last use, or accounts' answer time


class SessionCache:
    """Token digest → accounts' answer, with the indexes revocation events need."""

    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.listening = False  # only a subscribed copy may answer from the cache
        self.generation = 0  # moves on every drop: an answer fetched across one is not kept
        self._entries: dict[str, Entry] = {}
        self._by_user: dict[str, set[str]] = {}
        self._by_unit: dict[str, set[str]] = {}

    @property
    def enabled(self) -> bool:
        return self.listening and self.seconds > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str, now: datetime) -> dict | None:
        """The cached session if it may still be trusted, counting this use as activity."""
        if not self.enabled:
            return None
        key = digest(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if (
            time.monotonic() - entry.fetched >= self.seconds
            or now >= entry.expires_at
            or now >= entry.last_active + entry.idle
        ):
            return None  # accounts decides: it may know of use at other copies
        entry.last_active = max(entry.last_active, now)
        return entry.session

    def last_active(self, token: str) -> datetime | None:
        """When this copy last served the token from its cache: sent to accounts."""
        entry = self._entries.get(digest(token))
        return entry.last_active if entry else None

    def put(self, token: str, session: dict, generation: int, now: datetime) -> None:
        """Keep accounts' answer, unless a drop happened while it was being fetched (the
        answer may predate the change that caused it)."""
        if not self.enabled or generation != self.generation:
            return
        key = digest(token)
        self._forget(key)
        while len(self._entries) >= self.max_entries:
            self._forget(next(iter(self._entries)))
        self._entries[key] = Entry(
            session=session,
            fetched=time.monotonic(),
            expires_at=_aware(session["expires_at"]),
            idle=timedelta(seconds=session["idle_seconds"]),
            last_active=now,
        )
        user = session["user"]
        self._by_user.setdefault(user["id"], set()).add(key)
        if user.get("unit_id"):
            self._by_unit.setdefault(user["unit_id"], set()).add(key)

    def forget_token(self, token: str) -> None:
        self.generation += 1
        self._forget(digest(token))

    def forget(self, user_ids: list[str], unit_ids: list[str]) -> None:
        self.generation += 1
        for index, ids in ((self._by_user, user_ids), (self._by_unit, unit_ids)):
            for key in [k for i in ids for k in index.get(i, ())]:
                self._forget(key)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_user.clear()
        self._by_unit.clear()

    def _forget(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        user = entry.session["user"]
        for index, id_ in ((self._by_user, user["id"]), (self._by_unit, user.get("unit_id"))):
            keys = index.get(id_)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[id_]


def digest(token: str) -> str:
    # The token itself never sits in memory longer than the request that carried it.
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SessionListener:
    """Keeps one copy's cache subscribed to accounts.sessions.changed, and honest when not."""

    def __init__(self, cache: SessionCache, amqp_url: str, names: Names) -> None:
        self.cache = cache
        self.amqp_url = amqp_url
        self.names = names
        self.resubscribed = 0
        self._connection: AbstractConnection | None = None
        self._task: asyncio.Task | None = None
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_subscribed(), name="session-listener")

    async def close(self) -> None:
        self._closing = True
        self.cache.listening = False
        self.cache.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._drop_connection()

    async def _keep_subscribed(self) -> None:
        delay = 0.1
        while not self._closing:
            try:
                lost = await self._subscribe()
            except Exception as error:
                log.info("sessions: subscribing failed (%r); next try in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            await lost.wait()
            await self._drop_connection()  # lost, but only close() marks it closed

    async def _subscribe(self) -> asyncio.Event:
        lost = asyncio.Event()
        connection = await amqp.connect(self.amqp_url, timeout=5)
        try:
            channel = await connection.channel()
            exchange = await declare_events_exchange(channel, self.names)
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            await queue.bind(exchange, SESSIONS_CHANGED.type)
            await queue.consume(self._on_message, no_ack=True)
        except BaseException:
            await amqp.close_quietly(connection)
            raise
        connection.close_callbacks.add(lambda *_: (self._lost(), lost.set()))
        self._connection = connection
        # Bound first, then emptied: a change after this point arrives as an event, one before
        # it is not in the cache any more.
        self.cache.clear()
        self.cache.listening = True
        self.resubscribed += 1
        log.info("sessions: subscribed to %s; cache on", SESSIONS_CHANGED.type)
        return lost

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await amqp.close_quietly(connection)

    def _lost(self) -> None:
        if self.cache.listening:
            log.warning("sessions: broker connection lost; cache off until resubscribed")
        self.cache.listening = False
        self.cache.clear()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            payload = json.loads(message.body)["payload"]
            user_ids, unit_ids = list(payload["user_ids"]), list(payload["unit_ids"])
        except (ValueError, KeyError, TypeError):
            # Unreadable: whom it meant is unknown, so nobody's cached session is trusted.
            log.warning("sessions: unreadable %s; cache emptied", SESSIONS_CHANGED.type)
            self.cache.clear()
            return
        self.cache.forget(user_ids, unit_ids)


def now_utc() -> datetime:
    return datetime.now(UTC)
