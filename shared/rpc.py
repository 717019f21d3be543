"""Request/reply between the gateway and the services over RabbitMQ.

A request is a JSON object {method, params, actor, request_id} sent to
`<prefix>.rpc.<service>` with `reply_to` set to RabbitMQ's direct reply-to pseudo-queue and a
correlation id. The reply is {ok: true, result} or {ok: false, error: {code, message, status,
fields}}. Each service's methods, with the models of their params and results, are its
contract (shared/contracts/<service>/rpc.py): the router serves them (`RpcRouter.serve`),
callers send with them (`RpcClient.invoke`).

The client keeps one future per correlation id, so one process has any number of calls in
flight at once on one channel (faststream's `broker.request` waits for each call in turn).
Every call has a timeout, and the request expires in the queue at the same moment, so a
service that comes back late never acts on a request its caller has given up on. A busy
service does not either: requests are consumed with automatic acknowledgement (to which
RabbitMQ applies no prefetch), so they wait for their turn inside the process rather than in
the queue, and there the router drops one whose turn came after its expiration.

A file crosses as bytes, not as base64 in the JSON: a method whose contract says it takes a
file (`Method.takes_file`) is sent the JSON, a newline and the file's bytes under the content
type ATTACHED, and its handler finds them in `CallContext.attachment`; one that returns a file
(`Method.returns_file`) answers `Attached(result, content)`, framed the same way, and its
caller gets that `Attached` back. JSON as json.dumps writes it holds no raw newline, so the
first one ends it.
"""

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic
from pydantic import BaseModel, Field, ValidationError

from shared import amqp, correlation, metrics
from shared.contracts.base import Method as ContractMethod
from shared.contracts.base import common_methods
from shared.db import is_database_unavailable
from shared.outbox import observe_backlog
from shared.text import ENVELOPES, InputRefused, clean_tree

log = logging.getLogger(__name__)

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
# The largest request a service reads: a 10 MB scan (as its bytes) with room to spare.
MAX_REQUEST_BYTES = 32 * 1024 * 1024
PING_DATABASE_TIMEOUT = 1.0
# Answered at once, without waiting for a turn: the gateway's /readyz pings every service, and
# a busy service is there all the same.
ANSWERED_AT_ONCE = frozenset({"ping", "stats"})
JSON = "application/json"
ATTACHED = "application/vnd.zhicheng.rpc+attached"  # JSON, a newline, then a file's bytes


@dataclass(frozen=True)
class Attached:
    """A value with a file beside it: what a handler of a `returns_file` method answers and
    what its caller gets back; the file never passes through the JSON."""

    value: Any
    content: bytes


def frame(head: bytes, content: bytes | None) -> tuple[bytes, str]:
    """The body and content type of a request or reply (`head`, its JSON), with a file after
    it or not."""
    if content is None:
        return head, JSON
    return b"\n".join((head, content)), ATTACHED


def unframe(body: bytes, content_type: str | None) -> tuple[bytes, bytes | None]:
    """The JSON and the file of a body `frame` made; ValueError when an attached body has no
    end to its JSON."""
    if content_type != ATTACHED:
        return body, None
    head, newline, content = body.partition(b"\n")
    if not newline:
        raise ValueError("an attached body without the newline after its JSON")
    return head, content


class RpcError(Exception):
    """An error a service answers with; the gateway turns it into an HTTP status."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        fields: dict[str, str] | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.fields:
            error["fields"] = self.fields
        if self.details is not None:
            error["details"] = self.details
        return error


class ServiceUnavailable(RpcError):
    def __init__(self, service: str, why: str) -> None:
        super().__init__(
            "service_unavailable", f"服务暂时不可用（{service}：{why}），请稍后再试", 503
        )
        self.service = service


class DatabaseUnavailable(RpcError):
    def __init__(self) -> None:
        super().__init__("database_unavailable", "数据库暂时不可用，请稍后再试", 503)


def invalid_input(error: ValidationError) -> RpcError:
    fields = {}
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "body"
        fields.setdefault(name, item["msg"])
    return RpcError("invalid_input", "输入有误，请检查后重试", 422, fields)


def prepare_params(method: ContractMethod, params: dict[str, Any] | BaseModel | None) -> dict:
    """The params as the method's service reads them: the input rule, then the method's model
    (an RpcError 422 naming each field, as the service would answer), as JSON."""
    raw = params.model_dump(mode="json") if isinstance(params, BaseModel) else dict(params or {})
    try:
        cleaned = clean_tree(raw, ENVELOPES)
    except InputRefused as refused:
        raise RpcError("invalid_input", refused.message, 422, refused.fields) from None
    if method.params is None:
        return cleaned
    try:
        return method.params.model_validate(cleaned).model_dump(mode="json")
    except ValidationError as error:
        raise invalid_input(error) from None


class Actor(BaseModel):
    """Who is calling, as the gateway's session knows them."""

    user_id: uuid.UUID | None = None
    role: str = "anonymous"
    unit_id: uuid.UUID | None = None
    org_id: str | None = None  # department, office or committee code of a reviewer
    name: str = ""  # the person's name, for the records they leave (case history)
    session_id: uuid.UUID | None = None  # the session the request came in (its public id)
    # for the audit trail (shared/audit.py): their username, their unit's or organisation's
    # name, and the client's address as the gateway saw it (anonymous callers too)
    username: str = ""
    organisation: str = ""
    client_address: str = ""


class Request(BaseModel):
    method: str
    params: dict[str, Any] = {}
    actor: Actor = Actor()
    request_id: str | None = Field(None, max_length=64)  # shared/correlation.py


@dataclass
class CallContext:
    service: str
    pool: asyncpg.Pool | None
    actor: Actor
    correlation_id: str | None  # of the AMQP request, which its reply answers to
    deps: Any = None  # what the service wired in at start: settings, clock, clients
    request_id: str | None = None  # of the HTTP request that caused this call
    attachment: bytes | None = None  # the file sent with a `takes_file` method's params


Method = Callable[[Any, CallContext], Awaitable[Any]]


@dataclass
class RpcRouter:
    """The methods one service answers: `rpc.serve(cases_rpc.CASE_GET, get_case)` for a
    method of its contract, `@rpc.method("echo", Echo)` for one of no contract (probes)."""

    service: str
    methods: dict[str, tuple[type[BaseModel] | None, Method]] = field(default_factory=dict)
    deps: Any = None
    in_flight: int = 0
    peak_in_flight: int = 0
    handled: int = 0
    expired: int = 0  # requests dropped unrun: their turn came after their caller gave up
    # Check every result against its contract's model (ZC_RPC_CHECK_RESULTS; the tests do):
    # an answer that does not fit is logged and answered as an internal error.
    check_results: bool = False
    results: dict[str, type[BaseModel]] = field(default_factory=dict)
    takes_file: set[str] = field(default_factory=set)  # methods whose params come with a file
    returns_file: set[str] = field(default_factory=set)  # methods that answer with a file
    _turns: asyncio.Semaphore | None = None  # set by limit_in_flight; None: no limit

    def __post_init__(self) -> None:
        from shared import audit  # it builds on this module

        self.methods.setdefault("ping", (None, self._ping))
        self.methods.setdefault("stats", (None, self._stats))
        self.methods.setdefault("audit.search", (audit.AuditSearch, audit.search))
        for common in common_methods(self.service):
            if common.result is not None:
                self.results.setdefault(common.name, common.result)

    def method(self, name: str, params_model: type[BaseModel] | None = None):
        def register(fn: Method) -> Method:
            self.methods[name] = (params_model, fn)
            return fn

        return register

    def serve(self, method: ContractMethod, fn: Method) -> None:
        """Answer a method of this service's contract with `fn`."""
        if method.service != self.service:
            raise ValueError(f"{method} is not a method of {self.service}")
        self.methods[method.name] = (method.params, fn)
        if method.result is not None:
            self.results[method.name] = method.result
        if method.takes_file:
            self.takes_file.add(method.name)
        if method.returns_file:
            self.returns_file.add(method.name)

    def limit_in_flight(self, most: int) -> None:
        """Handle at most this many requests at once (ZC_RPC_PREFETCH); the others wait for
        their turn in the order they came."""
        self._turns = asyncio.Semaphore(most)

    async def dispatch(
        self,
        body: bytes,
        pool: asyncpg.Pool | None,
        correlation_id=None,
        message_id=None,
        expires_in: float | None = None,
        content_type: str | None = None,
    ) -> dict | Attached | None:
        """The reply to one request, whatever the request holds: never raises; `Attached`
        when it comes with a file (a `returns_file` method answered). None when the
        request's turn came `expires_in` seconds (its expiration, which its caller's timeout
        set) or more after it arrived here: nothing of it is done and no reply is sent, as if
        it had expired in the queue. Counted from its arrival here, so never before its
        caller stopped waiting."""
        arrived = time.monotonic()
        attachment = None
        try:
            request, attachment = self._read(body, content_type, correlation_id or message_id)
        except RpcError as unreadable:
            request = unreadable
        if self._turns is None or not isinstance(request, Request):
            return await self._answer(request, attachment, pool, correlation_id)
        if request.method in ANSWERED_AT_ONCE:
            return await self._answer(request, attachment, pool, correlation_id)
        async with self._turns:
            if expires_in is not None and time.monotonic() - arrived >= expires_in:
                self.expired += 1
                method = request.method if request.method in self.methods else "-"
                metrics.count(metrics.RPC_SERVER_CALLS, self.service, method, "expired")
                return None
            return await self._answer(request, attachment, pool, correlation_id)

    async def _answer(
        self,
        request: "Request | RpcError",
        attachment: bytes | None,
        pool: asyncpg.Pool | None,
        correlation_id,
    ) -> dict | Attached:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        started = time.perf_counter()
        method, outcome = "-", "ok"  # "-": a request that could not be read
        tokens = _context_tokens()
        try:
            if isinstance(request, RpcError):
                raise request
            method = request.method if request.method in self.methods else "-"
            _set_context(request)
            result = await self._call(request, attachment, pool, correlation_id)
            if isinstance(result, Attached):
                return Attached({"ok": True, "result": result.value}, result.content)
            return {"ok": True, "result": result}
        except RpcError as error:
            outcome = error.code
            return {"ok": False, "error": error.to_dict()}
        except Exception as error:
            if is_database_unavailable(error):
                log.warning("%s: database unavailable: %r", self.service, error)
                outcome = "database_unavailable"
                return {"ok": False, "error": DatabaseUnavailable().to_dict()}
            log.exception("%s: unexpected error", self.service)
            outcome = "internal"
            return {"ok": False, "error": RpcError("internal", "系统内部错误", 500).to_dict()}
        finally:
            _reset_context(tokens)
            self.in_flight -= 1
            self.handled += 1
            metrics.count(metrics.RPC_SERVER_CALLS, self.service, method, outcome)
            elapsed = time.perf_counter() - started
            metrics.observe(metrics.RPC_SERVER_SECONDS, elapsed, self.service, method)

    def _read(
        self, body: bytes, content_type: str | None, message_id: str | None
    ) -> tuple[Request, bytes | None]:
        """The request and the file sent with it, or an RpcError saying why it cannot be read
        (logged with its id)."""
        if len(body) > MAX_REQUEST_BYTES:
            reason = f"request of {len(body)} bytes is over {MAX_REQUEST_BYTES}"
        else:
            try:
                head, attachment = unframe(body, content_type)
                return Request.model_validate_json(head), attachment
            except ValidationError as error:
                if any(e["type"] != "json_invalid" for e in error.errors()):
                    raise invalid_input(error) from None
                reason = f"not JSON: {error.errors()[0]['msg']}"
            except (RecursionError, ValueError) as error:
                reason = f"unreadable: {type(error).__name__}"
        log.error("%s: request %s refused: %s", self.service, message_id or "?", reason)
        raise RpcError("bad_request", "请求无法解析", 400)

    async def _call(self, request: Request, attachment: bytes | None, pool, correlation_id) -> Any:
        if request.method not in self.methods:
            raise RpcError("unknown_method", f"{self.service} 不提供 {request.method}", 404)
        self._check_attachment(request.method, attachment)
        params_model, fn = self.methods[request.method]
        try:  # the input rule (shared/text.py), before any service looks at its params
            params: Any = clean_tree(request.params, ENVELOPES)
        except InputRefused as refused:
            raise RpcError("invalid_input", refused.message, 422, refused.fields) from None
        if params_model is not None:
            try:
                params = params_model.model_validate(params)
            except ValidationError as error:
                raise invalid_input(error) from None
        context = CallContext(
            self.service,
            pool,
            request.actor,
            correlation_id,
            self.deps,
            request.request_id,
            attachment,
        )
        answer = await fn(params, context)
        attached = isinstance(answer, Attached)
        if attached != (request.method in self.returns_file):
            log.error(
                "%s: %s answered with a file or without, off its contract",
                self.service,
                request.method,
            )
            raise RpcError("contract_broken", "系统内部错误", 500)
        result = answer.value if attached else answer
        result = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        if self.check_results:
            self._check_result(request.method, result)
        return Attached(result, answer.content) if attached else result

    def _check_attachment(self, method: str, attachment: bytes | None) -> None:
        """A file comes with the methods that take one, and with no other."""
        if method in self.takes_file and attachment is None:
            raise RpcError("invalid_input", "缺少文件内容", 422, {"file": "缺少文件内容"})
        if method not in self.takes_file and attachment is not None:
            raise RpcError("bad_request", f"{self.service} {method} 不接收文件", 400)

    def _check_result(self, name: str, result: Any) -> None:
        """The result as its caller will read it (JSON) against the contract's model."""
        model = self.results.get(name)
        if model is None:
            return
        try:
            model.model_validate_json(json.dumps(result, ensure_ascii=False, default=str))
        except ValidationError as error:
            # the fields and what is wrong, never the values: they may be personal numbers
            problems = error.errors(include_input=False, include_url=False)
            log.error("%s: %s answered outside its contract: %s", self.service, name, problems)
            raise RpcError("contract_broken", "系统内部错误", 500) from None

    async def _ping(self, _params, context: CallContext) -> dict:
        """Answers only when this process can serve: its database too (readiness)."""
        if context.pool is not None:
            try:
                async with asyncio.timeout(PING_DATABASE_TIMEOUT):
                    await context.pool.fetchval("SELECT 1")
            except Exception as error:
                if not is_database_unavailable(error):
                    raise
                raise DatabaseUnavailable() from None
        return {"service": self.service, "pid": os.getpid()}

    async def _stats(self, _params, context: CallContext) -> dict:
        if context.pool is not None:  # the figures read at scrape time, read now
            metrics.observe_pool(self.service, context.pool)
            await observe_backlog(context.pool, self.service)
        return {
            "service": self.service,
            "pid": os.getpid(),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "handled": self.handled,
            "expired": self.expired,
            **metrics.summary(self.service),
        }


def _context_tokens() -> tuple:
    """The log context a request sets, cleared now and restored after it (shared/correlation)."""
    return (
        correlation.request_id.set(None),
        correlation.actor.set(None),
        correlation.case_id.set(None),
    )


def _set_context(request: Request) -> None:
    correlation.request_id.set(request.request_id)
    if request.actor.user_id is not None:
        correlation.actor.set(str(request.actor.user_id))
    case_id = request.params.get("case_id")
    if isinstance(case_id, str):
        correlation.case_id.set(case_id[:64])


def _reset_context(tokens: tuple) -> None:
    request_id, actor, case_id = tokens
    correlation.case_id.reset(case_id)
    correlation.actor.reset(actor)
    correlation.request_id.reset(request_id)


PROBE_TIMEOUT = 1.0  # seconds the broker has to answer the probe of a silent connection


def _fail(future: asyncio.Future, error: Exception) -> None:
    if not future.done():
        future.set_exception(error)


def _time_out(future: asyncio.Future, service: str, timeout: float) -> None:
    _fail(future, ServiceUnavailable(service, f"{timeout:g} 秒内无应答"))


async def _probe(channel) -> bool:
    """Whether the broker answers on this channel: Basic.Qos is one of the cheapest methods it
    must answer, and changes nothing for the reply consumer (no acks, so no prefetch)."""
    try:
        await channel.set_qos(prefetch_count=0, timeout=PROBE_TIMEOUT)
    except Exception:  # no answer in time, or the connection already broken
        return False
    return True


class RpcClient:
    """Calls services; safe to share between any number of concurrent tasks.

    It keeps its own connection and mends it: when the broker goes away, the calls waiting
    for a reply fail at once, new calls fail fast while it reconnects in the background, and
    the reply consumer is back with the new connection.

    Requests are published without publisher confirms: a confirm is one more frame for the
    broker to send and for this process to read on every call: ~100 us of the gateway's
    ~680 for a verification (bench/README.md, "Requests without faststream, and without
    confirms"). What
    the confirms told is learnt otherwise:
    - a request no queue takes (its service never started) comes back from the broker
      (mandatory), and its call fails at once;
    - a call with no reply after `silence_timeout` seconds asks the broker for one cheap
      answer; a broker that gives none within PROBE_TIMEOUT went silent, and the connection
      is dropped and made anew rather than waited on.
    """

    def __init__(
        self,
        amqp_url: str,
        queue_for: Callable[[str], str],
        timeout: float,
        silence_timeout: float = 3.0,
    ) -> None:
        self.amqp_url = amqp_url
        self.queue_for = queue_for
        self.timeout = timeout
        self.silence_timeout = silence_timeout
        self._probe: tuple[AbstractChannel, asyncio.Task] | None = None
        self.reconnects = 0
        self._pending: dict[str, tuple[asyncio.Future, str]] = {}
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._reconnecting: asyncio.Task | None = None
        self._checks: set[asyncio.Task] = set()
        self._last_heard = float("-inf")  # when a reply last came (time.monotonic)
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._channel is not None and not self._channel.is_closed

    async def start(self) -> None:
        """Connect now; a broker that is away at start fails here, as a misconfiguration would."""
        await self._connect()

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            await asyncio.gather(self._reconnecting, return_exceptions=True)
        self._fail_pending("网关正在关闭")
        for check in list(self._checks):
            check.cancel()
        await self._drop_connection()

    async def invoke(
        self,
        method: ContractMethod,
        params: dict[str, Any] | BaseModel | None = None,
        actor: Actor | None = None,
        timeout: float | None = None,
        attachment: bytes | None = None,
    ) -> Any:
        """Call a method of a service's contract with params checked and sent as its model
        (prepare_params), and the file it takes if it takes one; its result as the service
        answered it (`Attached`, with the file, for a method that returns one)."""
        if method.takes_file != (attachment is not None):
            given = "without" if attachment is None else "with"
            raise ValueError(f"{method} takes a file: {method.takes_file}; called {given} one")
        prepared = prepare_params(method, params)
        return await self.call(method.service, method.name, prepared, actor, timeout, attachment)

    async def call(
        self,
        service: str,
        method: str,
        params: dict[str, Any] | BaseModel | None = None,
        actor: Actor | None = None,
        timeout: float | None = None,
        attachment: bytes | None = None,
    ) -> Any:
        timeout = self.timeout if timeout is None else timeout
        if isinstance(params, BaseModel):
            params = params.model_dump(mode="json")
        request = {"method": method, "params": params or {}}
        if (request_id := correlation.current()) is not None:
            request["request_id"] = request_id
        if actor is not None:
            request["actor"] = actor.model_dump(mode="json")
        started = time.perf_counter()
        outcome = "aborted"  # ended without an answer or an RpcError: its task cancelled
        try:
            body, content_type = frame(json.dumps(request, default=str).encode(), attachment)
            reply, content = await self._round_trip(service, body, content_type, timeout)
            error = reply.get("error") or {}
            outcome = "ok" if reply.get("ok") else str(error.get("code", "error"))
        except RpcError as failed:  # no answer: the service or the broker away, or unreadable
            outcome = failed.code
            raise
        finally:
            metrics.count(metrics.RPC_CLIENT_CALLS, service, method, outcome)
            elapsed = time.perf_counter() - started
            metrics.observe(metrics.RPC_CLIENT_SECONDS, elapsed, service, method)
        if reply.get("ok"):
            result = reply.get("result")
            return result if content is None else Attached(result, content)
        raise RpcError(
            outcome,
            error.get("message", "请求失败"),
            int(error.get("status", 400)),
            error.get("fields"),
            error.get("details"),
        )

    async def _round_trip(
        self, service: str, body: bytes, content_type: str, timeout: float
    ) -> tuple[dict, bytes | None]:
        """The reply to one request, and the file it came with."""
        channel = self._channel
        if channel is None or channel.is_closed:
            raise ServiceUnavailable(service, "消息服务未连接")
        correlation_id = correlation.new_id()
        future = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = (future, service)
        try:
            properties = Basic.Properties(
                content_type=content_type,
                correlation_id=correlation_id,
                message_id=correlation_id,
                reply_to=DIRECT_REPLY_TO,
                expiration=str(max(int(timeout * 1000), 1)),  # in ms, as the broker reads it
            )
            await self._publish(channel, service, body, properties)
            return await self._reply(channel, service, future, timeout)
        finally:
            self._pending.pop(correlation_id, None)

    async def _reply(self, channel, service: str, future, timeout: float):
        """The reply within `timeout`; a wait past silence_timeout first makes sure the broker
        still answers at all (a connection can go silent without being closed). Timers on
        the loop rather than wait_for: no task, no shield, nothing to cancel per call."""
        loop = asyncio.get_running_loop()
        timers = [loop.call_later(timeout, _time_out, future, service, timeout)]
        if self.silence_timeout < timeout:
            timers.append(
                loop.call_later(self.silence_timeout, self._check_broker, channel, service, future)
            )
        try:
            return await future
        finally:
            for timer in timers:
                timer.cancel()

    def _check_broker(self, channel, service: str, future) -> None:
        if not future.done():
            task = asyncio.get_running_loop().create_task(
                self._fail_if_silent(channel, service, future)
            )
            self._checks.add(task)
            task.add_done_callback(self._checks.discard)

    async def _fail_if_silent(self, channel, service: str, future) -> None:
        # Replies still coming on this connection say it is not silent: a slow service, or
        # this process too busy to read quickly. Probing then would wrongly drop the
        # connection, and every call on it, when an overloaded loop reads the answer late.
        asked = time.monotonic()
        if self._heard_since(asked - self.silence_timeout):
            return
        if not await self._broker_answers(channel) and not self._heard_since(asked):
            log.warning("rpc: the broker gave no answer in %gs; reconnecting", PROBE_TIMEOUT)
            _fail(future, ServiceUnavailable(service, "消息服务无应答"))
            self._connection_lost(channel)

    async def _broker_answers(self, channel) -> bool:
        """One probe at a time, shared by every call waiting on this channel."""
        if self._probe is None or self._probe[1].done() or self._probe[0] is not channel:
            self._probe = (channel, asyncio.get_running_loop().create_task(_probe(channel)))
        return await asyncio.shield(self._probe[1])

    async def _publish(self, channel, service: str, body: bytes, properties) -> None:
        try:
            await amqp.publish_unwaited(
                channel, body, self.queue_for(service), properties, mandatory=True
            )
        except (aio_pika.exceptions.AMQPError, ConnectionError) as error:
            raise ServiceUnavailable(service, f"请求未能发出：{type(error).__name__}") from None

    async def _connect(self) -> None:
        connection = await amqp.connect(self.amqp_url, timeout=5)
        try:
            channel = await connection.channel(publisher_confirms=False)
            channel.return_callbacks.add(self._on_returned)
            # Replies read from aiormq's channel: aio_pika's consumer makes an
            # IncomingMessage of each, decoding every property, for the two read here.
            underlay = await channel.get_underlay_channel()
            await underlay.basic_consume(DIRECT_REPLY_TO, self._on_reply, no_ack=True)
        except BaseException:
            await amqp.close_quietly(connection)
            raise
        self._connection, self._channel = connection, channel
        connection.close_callbacks.add(lambda *_: self._connection_lost(channel))

    def _connection_lost(self, channel) -> None:
        if channel is not self._channel or self._closing:
            return  # an older connection, already replaced, or we are closing
        log.warning("rpc: connection to the broker lost; reconnecting")
        self._channel = None
        self._fail_pending("与消息服务的连接中断")
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed:
            asyncio.get_running_loop().create_task(amqp.close_quietly(connection))
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.1
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except Exception as error:
                log.info("rpc: reconnect failed (%r); next try in %.1fs", error, delay)
                delay = min(delay * 2, 2.0)
                continue
            self.reconnects += 1
            log.info("rpc: reconnected to the broker")
            return

    def _fail_pending(self, why: str) -> None:
        for future, service in list(self._pending.values()):
            if not future.done():
                future.set_exception(ServiceUnavailable(service, why))

    async def _drop_connection(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            await amqp.close_quietly(connection)

    def _heard_since(self, moment: float) -> bool:
        return self._last_heard >= moment

    def _on_returned(self, _channel, message: AbstractIncomingMessage) -> None:
        """A request no queue took: its service never started (or is gone with its queue)."""
        entry = self._pending.get(message.correlation_id or "")
        if entry is not None and not entry[0].done():
            entry[0].set_exception(ServiceUnavailable(entry[1], "服务未启动"))

    async def _on_reply(self, message: DeliveredMessage) -> None:
        self._last_heard = time.monotonic()
        entry = self._pending.get(message.header.properties.correlation_id or "")
        if entry is None or entry[0].done():
            return  # the caller gave up already
        try:
            head, content = unframe(message.body, message.header.properties.content_type)
            entry[0].set_result((json.loads(head), content))
        except (ValueError, RecursionError):
            entry[0].set_exception(RpcError("bad_reply", "服务应答无法解析", 502))
