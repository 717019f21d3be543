"""One bootstrap for every service process: pool, migrations, broker, relay, handlers, and
its metrics and health endpoint (ZC_METRICS_PORT, shared/metrics_server.py).

`python -m services.<name>` builds a `Service` and calls `run()`; tests build the same
object and `start()` it inside their event loop.

A stop (SIGTERM, Ctrl-C) is graceful: the process first stops taking requests and events
(every consumer cancelled, so the broker sends what is still queued to the other copies),
then gives what it is handling up to ZC_STOP_GRACE seconds to finish, then cancels the rest
unacknowledged (the broker redelivers those events), and only then stops its background
loops and closes its connections.
"""

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable

import asyncpg
from aio_pika.abc import AbstractIncomingMessage
from faststream import BaseMiddleware
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from pamqp.commands import Basic

from shared import amqp, event_loop
from shared.consumer import EventConsumer, Unhandleable
from shared.db import create_pool, ensure_database
from shared.failed_events import FailedEvents, describe_failure
from shared.logs import setup_logging
from shared.metrics import RPC_IN_FLIGHT, child, observe_pool
from shared.metrics_server import MetricsServer
from shared.migrations import migrate_service
from shared.outbox import OutboxRelay, observe_backlog
from shared.personal_data import check_production_keys
from shared.rpc import Attached, RpcRouter, frame
from shared.settings import Settings, get_settings
from shared.topology import Names, declare_consumer_queues, declare_events_exchange

log = logging.getLogger(__name__)

Hook = Callable[["Service"], Awaitable[None]]
POOL_CLOSE_GRACE = 10.0  # seconds
CANCEL_TIMEOUT = 2.0  # seconds a consumer's cancel may take (a broker away never answers)
READY_TIMEOUT = 1.0  # seconds the database and the broker each have to answer /readyz


class Service:
    def __init__(
        self,
        name: str,
        rpc: RpcRouter,
        events: EventConsumer | None = None,
        settings: Settings | None = None,
        schema: str | None = None,
        on_start: list[Hook] | None = None,
        on_stop: list[Hook] | None = None,
        subscribe: list[Callable[["Service"], None]] | None = None,
        on_scrape: list[Hook] | None = None,
    ) -> None:
        self.name = name
        self.rpc = rpc
        self.events = events
        self.settings = settings or get_settings()
        self.schema = schema or name
        self.names = Names(self.settings)
        self.on_start = on_start or []
        self.on_stop = on_stop or []
        self.subscribe = subscribe or []  # extra broker subscribers, added before start
        self.on_scrape = on_scrape or []  # figures of its own read when /metrics is asked
        self.pool: asyncpg.Pool | None = None
        self.broker: RabbitBroker | None = None
        self.relay: OutboxRelay | None = None
        self.failed_events: FailedEvents | None = None
        self.requests: RequestConsumer | None = None
        self.in_flight = InFlight()
        self.metrics: MetricsServer | None = None
        self.stopping = False

    async def start(self) -> None:
        if self.settings.metrics_port:  # first: alive (and not ready) while migrations run
            self.metrics = MetricsServer(
                self.settings.metrics_host, self.settings.metrics_port, self.ready, self.scrape
            )
            await self.metrics.start()
        check_production_keys()  # before a migration seals anything with them
        await ensure_database(self.settings.database_url)
        applied = await migrate_service(self.settings.database_url, self.name, self.schema)
        if applied:
            log.info("%s: applied migrations %s", self.name, ", ".join(applied))
        self.pool = await create_pool(
            self.settings.database_url,
            self.schema,
            min_size=min(self.settings.db_pool_min, self.settings.db_pool_max),
            max_size=self.settings.db_pool_max,
        )
        self.rpc.check_results = self.settings.rpc_check_results
        self.rpc.limit_in_flight(self.settings.rpc_prefetch)
        await self._declare_topology()
        # No dependency injection on the hot path: it costs a thread hop per message.
        self.broker = RabbitBroker(
            self.settings.amqp_url,
            logger=log,
            log_level=logging.DEBUG,
            apply_types=False,
            middlewares=[self.in_flight],
            graceful_timeout=self.settings.stop_grace,
        )
        if self.events is not None and self.events.subscriptions:
            self.failed_events = FailedEvents(self.settings.amqp_url, self.names, self.events.name)
            await self.failed_events.start()
            self._subscribe_events()
        for add_subscribers in self.subscribe:
            add_subscribers(self)
        await self.broker.start()
        self.requests = RequestConsumer(self.settings.amqp_url, self.names.rpc_queue(self.name))
        await self.requests.start(self._handle_request)
        self.relay = OutboxRelay(
            self.pool,
            self.settings.database_url,
            self.schema,
            self.settings.amqp_url,
            self.names,
            self.settings.outbox_poll_interval,
            self.settings.outbox_batch_size,
            self.settings.outbox_round_gap,
        )
        await self.relay.start()
        for hook in self.on_start:
            await hook(self)
        log.info("%s: ready (rpc queue %s)", self.name, self.names.rpc_queue(self.name))

    async def stop(self) -> None:
        self.stopping = True  # /readyz says so at once: no new work should be sent here
        if self.broker is not None:
            await self._stop_consuming()
            await self._finish_in_flight()
        for hook in self.on_stop:
            await hook(self)
        if self.broker is not None:
            await self.broker.stop()
        if self.requests is not None:
            await self.requests.close()
        if self.failed_events is not None:
            await self.failed_events.close()
        if self.relay is not None:
            await self.relay.stop()
        if self.pool is not None:
            await self._close_pool()
        if self.metrics is not None:
            await self.metrics.close()

    async def _stop_consuming(self) -> None:
        """Cancel every consumer: the broker sends this process nothing more, and what is
        still queued goes to the other copies (or waits for one). faststream's own stop
        waits for the handlers first and cancels only then, and a request that arrives
        meanwhile (acked on arrival) would be dropped."""
        if self.requests is not None:
            await self.requests.pause()
        for subscriber in self.broker.subscribers:
            # faststream 0.7 offers no public way to cancel a subscriber's consumer alone.
            queue, tag = subscriber._queue_obj, subscriber._consumer_tag
            if queue is not None and tag is not None:
                await cancel_consumer(queue, tag)
            subscriber._consumer_tag = None

    async def pause(self) -> None:
        """Take no requests or events until `resume`, the process staying up (as a service
        that does not answer, in tests)."""
        await self.requests.pause()
        await self.broker.stop()

    async def resume(self) -> None:
        await self.broker.start()
        await self.requests.resume()

    async def _finish_in_flight(self) -> None:
        """Up to stop_grace seconds for the requests and events being handled; those still
        running then are cancelled: their transactions roll back, and their events, never
        acked, come back to another copy when this one's channel closes."""
        busy = self.in_flight.tasks
        if busy:
            log.info("%s: waiting for %d message(s) being handled", self.name, len(busy))
            await asyncio.wait(set(busy), timeout=self.settings.stop_grace)
        unfinished = set(self.in_flight.tasks)
        if unfinished:
            log.warning(
                "%s: %d message(s) still being handled after %gs: cut short, not acked",
                self.name,
                len(unfinished),
                self.settings.stop_grace,
            )
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)

    async def _close_pool(self) -> None:
        """A stop never hangs on a connection some task did not give back: after a grace
        period the rest are closed hard (their transactions roll back)."""
        try:
            await asyncio.wait_for(self.pool.close(), POOL_CLOSE_GRACE)
        except TimeoutError:
            log.warning(
                "%s: connections still in use after %ss; closed", self.name, POOL_CLOSE_GRACE
            )
            self.pool.terminate()

    async def ready(self) -> dict[str, str]:
        """What keeps this process from serving now, by what (empty: ready)."""
        if self.stopping:
            return {"service": "stopping"}
        if self.relay is None:  # start() has not finished
            return {"service": "starting"}
        problems = {}
        if not await self.broker.ping(READY_TIMEOUT):
            problems["broker"] = "not connected"
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                await self.pool.fetchval("SELECT 1")
        except Exception as error:
            problems["database"] = describe_failure(error)
        return problems

    async def scrape(self) -> None:
        """The figures read when /metrics is asked, rather than kept on every call."""
        child(RPC_IN_FLIGHT, self.name).set(self.rpc.in_flight)
        if self.pool is None:
            return
        observe_pool(self.name, self.pool)
        await observe_backlog(self.pool, self.schema)
        for hook in self.on_scrape:
            await hook(self)

    def run(self) -> None:
        setup_logging(self.settings.log_level, self.name, self.settings.log_format)
        event_loop.run(self._run_until_signal(), self.settings)

    async def _run_until_signal(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await self.start()
        await stop.wait()
        log.info("%s: stopping", self.name)
        await self.stop()

    async def _declare_topology(self) -> None:
        connection = await amqp.connect(self.settings.amqp_url, timeout=10)
        async with connection:
            channel = await connection.channel()
            await declare_events_exchange(channel, self.names)
            if self.events is not None and self.events.subscriptions:
                await declare_consumer_queues(
                    connection,
                    self.names,
                    self.events.name,
                    self.events.routing_keys,
                    sorted(self.events.retired),
                )

    async def _handle_request(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        self.in_flight.tasks.add(task)
        try:
            reply = await self.rpc.dispatch(
                message.body,
                self.pool,
                message.correlation_id,
                message.message_id,
                message.expiration,  # the caller's timeout: past it, nobody reads the reply
                message.content_type,
            )
            if reply is not None and message.reply_to:
                await self.requests.reply(message, reply)
        finally:
            self.in_flight.tasks.discard(task)

    def _subscribe_events(self) -> None:
        subscriber = self.broker.subscriber(
            RabbitQueue(self.names.event_queue(self.events.name), declare=False),
            channel=Channel(prefetch_count=self.settings.event_prefetch),
            # Acked once handled, retried later or dead-lettered; nacked (back at once) only
            # when even that could not be done, the broker being away.
            ack_policy=AckPolicy.NACK_ON_ERROR,
            no_reply=True,
            decoder=_undecoded,
        )
        context = self.broker.context

        @subscriber
        async def handle_event(_body) -> None:
            message = context.get_local("message").raw_message
            try:
                await self.events.process(self.pool, message.body, message.message_id)
            except Unhandleable as error:
                await self.failed_events.dead_letter(message, error.reason)
            except Exception as error:
                await self.failed_events.retry_later(message, describe_failure(error))


class RequestConsumer:
    """A service's RPC queue, read straight from aio-pika rather than through faststream: a
    request is one JSON body that RpcRouter reads itself, and faststream's layers (context
    scopes, middlewares, parser) cost about a sixth of a small request's CPU here
    (bench/README.md, "Requests without faststream, and without confirms").

    Consumed without acks: a request lost with a crashed process times out at its caller,
    which is safer than running a command twice. RpcRouter bounds how many run at once
    (ZC_RPC_PREFETCH) and drops those whose caller already gave up. The robust connection
    declares the queue again and consumes again after a broker restart."""

    def __init__(self, amqp_url: str, queue_name: str) -> None:
        self.amqp_url = amqp_url
        self.queue_name = queue_name
        self._connection = None
        self._queue = None
        self._replies = None
        self._handle = None
        self._tag = None

    async def start(self, handle: Callable[[AbstractIncomingMessage], Awaitable[None]]) -> None:
        self._handle = handle
        self._connection = await amqp.connect_robust(self.amqp_url, timeout=10)
        self._replies = await self._connection.channel(publisher_confirms=False)
        channel = await self._connection.channel(publisher_confirms=False)
        self._queue = await channel.declare_queue(self.queue_name, durable=False)
        await self.resume()

    async def resume(self) -> None:
        if self._tag is None:
            self._tag = await self._queue.consume(self._handle, no_ack=True)

    async def pause(self) -> None:
        """The broker sends no more requests here; what is queued waits for another copy."""
        if self._tag is not None:
            await cancel_consumer(self._queue, self._tag)
            self._tag = None

    async def reply(self, message: AbstractIncomingMessage, reply: dict | Attached) -> None:
        # Not mandatory and unconfirmed: RabbitMQ 3.10 both delivers and returns a mandatory
        # direct reply-to message, and a caller that gave up needs no answer.
        envelope, file = (
            (reply.value, reply.content) if isinstance(reply, Attached) else (reply, None)
        )
        head = json.dumps(envelope, ensure_ascii=False, default=str).encode()
        body, content_type = frame(head, file)
        properties = Basic.Properties(
            content_type=content_type,
            correlation_id=message.correlation_id,
            message_id=message.correlation_id,
        )
        await amqp.publish_unwaited(
            self._replies, body, message.reply_to, properties, mandatory=False
        )

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


async def cancel_consumer(queue, tag: str) -> None:
    if queue.channel.is_closed:
        return
    try:
        await asyncio.wait_for(queue.cancel(tag), CANCEL_TIMEOUT)
    except Exception as error:  # the broker away: its consumer goes with the connection
        log.warning("consumer %s not cancelled: %r", tag, error)


class InFlight:
    """A broker middleware that keeps the tasks handling a message right now, of every
    subscriber, so a stop can wait for them (and cancel what outlasts the grace)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task] = set()

    def __call__(self, message, *, context) -> BaseMiddleware:
        return _Tracked(message, context=context, tasks=self.tasks)


class _Tracked(BaseMiddleware):
    def __init__(self, message, *, context, tasks: set[asyncio.Task]) -> None:
        super().__init__(message, context=context)
        self.tasks = tasks

    async def on_receive(self) -> None:
        self.tasks.add(asyncio.current_task())

    async def after_processed(self, *_exc_info) -> bool:
        self.tasks.discard(asyncio.current_task())
        return False


async def _undecoded(message) -> bytes:
    """The body as it came: the handlers read it themselves, so a body that is not JSON, or
    is nested too deep to decode, reaches them (and gets its error reply or dead-letter)
    instead of failing inside the broker library before any handler sees it."""
    return message.body
