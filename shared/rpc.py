"""Request/reply between the gateway and the services over RabbitMQ.

A request is a JSON object {method, params, actor} sent to `<prefix>.rpc.<service>` with
`reply_to` set to RabbitMQ's direct reply-to pseudo-queue and a correlation id. The reply
is {ok: true, result} or {ok: false, error: {code, message, status, fields}}.

The client keeps one future per correlation id, so one process has any number of calls in
flight at once on one channel (faststream's `broker.request` waits for each call in turn).
Every call has a timeout, and the request expires in the queue at the same moment, so a
service that comes back late never acts on a request its caller has given up on.
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
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from pydantic import BaseModel, ValidationError

from shared.text import ENVELOPES, InputRefused, clean_tree

log = logging.getLogger(__name__)

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"


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


def invalid_input(error: ValidationError) -> RpcError:
    fields = {}
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "body"
        fields.setdefault(name, item["msg"])
    return RpcError("invalid_input", "输入有误，请检查后重试", 422, fields)


class Actor(BaseModel):
    """Who is calling, as the gateway's session knows them."""

    user_id: uuid.UUID | None = None
    role: str = "anonymous"
    unit_id: uuid.UUID | None = None
    org_id: str | None = None  # department, office or committee code of a reviewer
    name: str = ""  # the person's name, for the records they leave (case history)


class Request(BaseModel):
    method: str
    params: dict[str, Any] = {}
    actor: Actor = Actor()


@dataclass
class CallContext:
    service: str
    pool: asyncpg.Pool | None
    actor: Actor
    correlation_id: str | None
    deps: Any = None  # what the service wired in at start: settings, clock, clients


Method = Callable[[Any, CallContext], Awaitable[Any]]


@dataclass
class RpcRouter:
    """The methods one service answers; `@rpc.method("case.get", GetCase)`."""

    service: str
    methods: dict[str, tuple[type[BaseModel] | None, Method]] = field(default_factory=dict)
    deps: Any = None
    in_flight: int = 0
    peak_in_flight: int = 0
    handled: int = 0

    def __post_init__(self) -> None:
        self.methods.setdefault("ping", (None, self._ping))
        self.methods.setdefault("stats", (None, self._stats))

    def method(self, name: str, params_model: type[BaseModel] | None = None):
        def register(fn: Method) -> Method:
            self.methods[name] = (params_model, fn)
            return fn

        return register

    async def dispatch(self, body: bytes, pool: asyncpg.Pool | None, correlation_id=None) -> dict:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return {"ok": True, "result": await self._call(body, pool, correlation_id)}
        except RpcError as error:
            return {"ok": False, "error": error.to_dict()}
        except Exception:
            log.exception("%s: unexpected error", self.service)
            return {"ok": False, "error": RpcError("internal", "系统内部错误", 500).to_dict()}
        finally:
            self.in_flight -= 1
            self.handled += 1

    async def _call(self, body: bytes, pool, correlation_id) -> Any:
        try:
            request = Request.model_validate_json(body)
        except ValidationError as error:
            raise invalid_input(error) from None
        if request.method not in self.methods:
            raise RpcError("unknown_method", f"{self.service} 不提供 {request.method}", 404)
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
        context = CallContext(self.service, pool, request.actor, correlation_id, self.deps)
        result = await fn(params, context)
        return result.model_dump(mode="json") if isinstance(result, BaseModel) else result

    async def _ping(self, _params, _context) -> dict:
        return {"service": self.service, "pid": os.getpid()}

    async def _stats(self, _params, _context) -> dict:
        return {
            "service": self.service,
            "pid": os.getpid(),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "handled": self.handled,
        }


class RpcClient:
    """Calls services; safe to share between any number of concurrent tasks."""

    def __init__(self, amqp_url: str, queue_for: Callable[[str], str], timeout: float) -> None:
        self.amqp_url = amqp_url
        self.queue_for = queue_for
        self.timeout = timeout
        self._pending: dict[str, tuple[asyncio.Future, str]] = {}
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self.amqp_url, timeout=5)
        # With confirms, a request that no queue takes (its service never started)
        # comes back at once as a DeliveryError instead of waiting out the timeout.
        self._channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        reply_queue = await self._channel.get_queue(DIRECT_REPLY_TO, ensure=False)
        await reply_queue.consume(self._on_reply, no_ack=True)

    async def close(self) -> None:
        for future, service in list(self._pending.values()):
            if not future.done():
                future.set_exception(ServiceUnavailable(service, "网关正在关闭"))
        if self._connection is not None:
            await self._connection.close()

    async def call(
        self,
        service: str,
        method: str,
        params: dict[str, Any] | BaseModel | None = None,
        actor: Actor | None = None,
        timeout: float | None = None,
    ) -> Any:
        timeout = self.timeout if timeout is None else timeout
        if isinstance(params, BaseModel):
            params = params.model_dump(mode="json")
        request = {"method": method, "params": params or {}}
        if actor is not None:
            request["actor"] = actor.model_dump(mode="json")
        reply = await self._round_trip(service, json.dumps(request, default=str).encode(), timeout)
        if reply.get("ok"):
            return reply.get("result")
        error = reply.get("error") or {}
        raise RpcError(
            error.get("code", "error"),
            error.get("message", "请求失败"),
            int(error.get("status", 400)),
            error.get("fields"),
            error.get("details"),
        )

    async def _round_trip(self, service: str, body: bytes, timeout: float) -> dict:
        if self._channel is None or self._channel.is_closed:
            raise ServiceUnavailable(service, "消息服务未连接")
        correlation_id = uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = (future, service)
        deadline = time.monotonic() + timeout
        try:
            message = aio_pika.Message(
                body,
                content_type="application/json",
                correlation_id=correlation_id,
                reply_to=DIRECT_REPLY_TO,
                expiration=max(timeout, 0.001),
            )
            try:
                await self._channel.default_exchange.publish(
                    message, routing_key=self.queue_for(service), mandatory=True, timeout=timeout
                )
            except aio_pika.exceptions.DeliveryError:
                raise ServiceUnavailable(service, "服务未启动") from None
            except (aio_pika.exceptions.AMQPError, ConnectionError, TimeoutError) as error:
                raise ServiceUnavailable(service, f"请求未能发出：{type(error).__name__}") from None
            try:
                return await asyncio.wait_for(future, max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise ServiceUnavailable(service, f"{timeout:g} 秒内无应答") from None
        finally:
            self._pending.pop(correlation_id, None)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        entry = self._pending.get(message.correlation_id or "")
        if entry is None or entry[0].done():
            return  # the caller gave up already
        try:
            entry[0].set_result(json.loads(message.body))
        except ValueError:
            entry[0].set_exception(RpcError("bad_reply", "服务应答无法解析", 502))
