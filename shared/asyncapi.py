"""The AsyncAPI 3.0 document of the system's messaging, built from the contracts.

Every event of the registry (shared/contracts/registry.py) is a channel on the topic exchange
`<prefix>.events` (the routing key is the event type) with its envelope and payload schema,
an operation for its producer and one for each consumer; every service's RPC queue
`<prefix>.rpc.<service>` is a channel with a request message per method, each method an
operation whose reply goes to the caller's direct reply-to; the SMS provider contract's
exchange and receipts queue are channels too. The gateway serves it at /api/asyncapi.json;
tests/unit/test_asyncapi.py validates it against the official AsyncAPI 3.0.0 JSON schema.
"""

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.contracts.base import Event, Method, RpcErrorBody
from shared.contracts.notify.provider import ROUTING_KEY, OutboundSms, SmsReceipt
from shared.contracts.registry import EVENTS, SERVICES
from shared.envelope import Envelope
from shared.rpc import ATTACHED, JSON, Actor
from shared.settings import Settings

VERSION = "3.0.0"
AMQP_BINDING = "0.3.0"
SCHEMAS = "#/components/schemas/"
REPLIES = "rpc.replies"
DESCRIPTION = """\
The messaging of the 深圳市专业技术资格评审申报系统: events between the services (and from
the talent-introduction system and the enrolment registry), each service's RPC queue, and
the SMS provider contract.

Events: a JSON envelope {{id, type, version, occurred_at, producer, correlation_id, payload}},
published persistently to the topic exchange `{events}` with the event type as routing key.
Each consuming service reads them from its durable quorum queue `{prefix}.<service>.events`,
records each handled id (a redelivery changes nothing), retries a failing handler after
delays and dead-letters into `{prefix}.<service>.events.dlq` what it cannot handle. A consumer
ignores payload keys it does not know.

RPC: a request {{method, params, actor, request_id}} to `{prefix}.rpc.<service>` with
reply_to = amq.rabbitmq.reply-to and a correlation id; the reply is {{ok: true, result}} or
{{ok: false, error: {{code, message, status, fields}}}}. `params` are checked by the input rule
(control characters refused, NFC, a length per field) and then by the method's schema.
A method that takes or returns a file has it after the JSON as raw bytes: the body is the JSON,
a newline, the file, under the content type {attached}.
"""


def asyncapi_document(settings: Settings) -> dict[str, Any]:
    builder = _Builder(settings)
    return builder.document()


class _Builder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prefix = settings.broker_prefix
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}
        self.schemas: dict[str, Any] = {}
        self._refs: dict[type[BaseModel], dict] = {}

    def name(self, *parts: str) -> str:
        return self.settings.name(*parts)

    def document(self) -> dict[str, Any]:
        self._collect_schemas()
        self._events()
        self._rpc()
        self._sms()
        return {
            "asyncapi": VERSION,
            "info": {
                "title": "深圳市专业技术资格评审申报系统 messaging",
                "version": "0.1.0",
                "description": DESCRIPTION.format(
                    events=self.name("events"), prefix=self.prefix, attached=ATTACHED
                ),
            },
            "defaultContentType": "application/json",
            "servers": {"rabbitmq": self._server()},
            "channels": self.channels,
            "operations": self.operations,
            "components": {"schemas": self.schemas, "messages": self.messages},
        }

    def _server(self) -> dict:
        url = urlsplit(self.settings.amqp_url)
        host = url.hostname or "localhost"
        return {
            "host": f"{host}:{url.port or 5672}",  # never the credentials
            "protocol": "amqp",
            "protocolVersion": "0.9.1",
            "description": f"RabbitMQ (ZC_AMQP_URL); every name under the prefix {self.prefix}",
        }

    # --- schemas: every model once, named as pydantic names them ---

    def _collect_schemas(self) -> None:
        models: list[type[BaseModel]] = [Envelope, Actor, RpcErrorBody, OutboundSms, SmsReceipt]
        models += [event.payload for event in EVENTS.values()]
        for api in SERVICES.values():
            for method in api:
                models += [m for m in (method.params, method.result) if m is not None]
                models += [model for _, model in method.by_case]
        unique = list(dict.fromkeys(models))
        refs, definitions = models_json_schema(
            [(model, "validation") for model in unique],
            ref_template=SCHEMAS + "{model}",
        )
        self.schemas.update(definitions.get("$defs", {}))
        self._refs = {model: refs[(model, "validation")] for model in unique}

    def ref(self, model: type[BaseModel] | None) -> dict:
        if model is None:
            return {"type": "object", "description": "no params: an empty object"}
        return dict(self._refs[model])

    # --- events ---

    def _events(self) -> None:
        exchange = {
            "name": self.name("events"),
            "type": "topic",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        }
        binding = {"is": "routingKey", "exchange": exchange, "bindingVersion": AMQP_BINDING}
        for event in EVENTS.values():
            channel_id = f"event.{event.type}"
            message_id = channel_id
            self.schemas[f"Event.{event.type}"] = self._envelope_schema(event)
            self.messages[message_id] = {
                "name": event.type,
                "title": event.type,
                "summary": event.summary,
                "contentType": "application/json",
                "payload": {"$ref": f"{SCHEMAS}Event.{event.type}"},
                "correlationId": {
                    "description": "The request id of what caused the event",
                    "location": "$message.payload#/correlation_id",
                },
                "bindings": {"amqp": {"messageType": event.type, "bindingVersion": AMQP_BINDING}},
                "x-producer": event.producer,
                "x-consumers": list(event.consumers),
            }
            self.channels[channel_id] = {
                "address": event.type,
                "title": event.type,
                "summary": event.summary,
                "messages": {event.type: {"$ref": f"#/components/messages/{message_id}"}},
                "bindings": {"amqp": binding},
            }
            in_channel = {"$ref": f"#/channels/{channel_id}/messages/{event.type}"}
            self.operations[f"{event.producer}.publishes.{event.type}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{event.producer} publishes {event.type}",
                "messages": [in_channel],
            }
            for consumer in event.consumers:
                queue = self.name(consumer, "events")
                if consumer == "gateway":  # gateway/sessions.py: one queue per copy
                    queue = "an exclusive queue of each copy's own"
                self.operations[f"{consumer}.consumes.{event.type}"] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{channel_id}"},
                    "summary": f"{consumer} handles {event.type} from {queue}",
                    "messages": [in_channel],
                }

    def _envelope_schema(self, event: Event) -> dict:
        return {
            "allOf": [
                self.ref(Envelope),
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": event.type},
                        "version": {"const": event.version},
                        "producer": {"const": event.producer},
                        "payload": self.ref(event.payload),
                    },
                },
            ]
        }

    # --- RPC ---

    def _rpc(self) -> None:
        self.schemas["RpcFailure"] = {
            "type": "object",
            "required": ["ok", "error"],
            "properties": {"ok": {"const": False}, "error": self.ref(RpcErrorBody)},
        }
        replies: dict[str, Any] = {}
        for service, api in SERVICES.items():
            queue = self.name("rpc", service)
            channel_id = f"rpc.{service}"
            requests: dict[str, Any] = {}
            for method in api:
                request_id, reply_id = self._rpc_messages(method)
                requests[method.name] = {"$ref": f"#/components/messages/{request_id}"}
                reply_key = f"{service}.{method.name}"
                replies[reply_key] = {"$ref": f"#/components/messages/{reply_id}"}
                self.operations[f"{service}.{method.name}"] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{channel_id}"},
                    "summary": method.summary,
                    "messages": [{"$ref": f"#/channels/{channel_id}/messages/{method.name}"}],
                    "reply": {
                        "address": {
                            "description": "The caller's direct reply-to (amq.rabbitmq.reply-to)",
                            "location": "$message.header#/reply_to",
                        },
                        "channel": {"$ref": f"#/channels/{REPLIES}"},
                        "messages": [{"$ref": f"#/channels/{REPLIES}/messages/{reply_key}"}],
                    },
                }
            self.channels[channel_id] = {
                "address": queue,
                "title": f"{service} RPC",
                "summary": f"The requests the {service} service answers",
                "messages": requests,
                "bindings": {
                    "amqp": {
                        "is": "queue",
                        "queue": {
                            "name": queue,
                            "durable": False,
                            "exclusive": False,
                            "autoDelete": False,
                            "vhost": "/",
                        },
                        "bindingVersion": AMQP_BINDING,
                    }
                },
            }
        self.channels[REPLIES] = {
            "address": None,
            "title": "RPC replies",
            "summary": "Each caller's direct reply-to pseudo-queue (amq.rabbitmq.reply-to)",
            "messages": replies,
        }

    def _rpc_messages(self, method: Method) -> tuple[str, str]:
        base = f"rpc.{method.service}.{method.name}"
        correlation = {
            "description": "AMQP correlation_id: the reply carries the request's",
            "location": "$message.header#/correlation_id",
        }
        self.messages[f"{base}.request"] = {
            "name": method.name,
            "title": f"{method.service} {method.name}",
            "summary": method.summary,
            **_content(method.takes_file, "The JSON is followed by a newline and the file's bytes"),
            "correlationId": correlation,
            "payload": {
                "type": "object",
                "required": ["method"],
                "properties": {
                    "method": {"const": method.name},
                    "params": self.ref(method.params),
                    "actor": self.ref(Actor),
                    "request_id": {
                        "type": ["string", "null"],
                        "maxLength": 64,
                        "description": "The HTTP request's id (X-Request-ID), for the logs",
                    },
                },
            },
        }
        if method.by_case:
            self.messages[f"{base}.request"]["x-by-case"] = {
                case: self.ref(model) for case, model in method.by_case
            }
        result = self.ref(method.result) if method.result is not None else {}
        self.messages[f"{base}.reply"] = {
            "name": f"{method.name} reply",
            "title": f"{method.service} {method.name} reply",
            **_content(
                method.returns_file,
                "A success's JSON is followed by a newline and the file's bytes; a failure is"
                " the JSON alone (application/json)",
            ),
            "correlationId": correlation,
            "payload": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["ok", "result"],
                        "properties": {"ok": {"const": True}, "result": result},
                    },
                    {"$ref": f"{SCHEMAS}RpcFailure"},
                ]
            },
        }
        return f"{base}.request", f"{base}.reply"

    # --- the SMS provider contract ---

    def _sms(self) -> None:
        exchange = {
            "name": self.name("sms", "outbound"),
            "type": "direct",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        }
        receipts = self.name("sms", "receipts")
        self.messages["sms.outbound"] = {
            "name": "sms",
            "title": "An SMS for the providers",
            "summary": (
                "One attempt of one SMS; message id = out_id; priority 9 for codes, 1 for"
                " notices; codes expire; a republished attempt has x-reconciliation: <n>"
            ),
            "contentType": "application/json",
            "payload": self.ref(OutboundSms),
            "headers": {
                "type": "object",
                "properties": {"x-reconciliation": {"type": "integer", "minimum": 1}},
            },
        }
        self.messages["sms.receipt"] = {
            "name": "receipt",
            "title": "A provider adapter's receipt",
            "summary": "The outcome of one out_id; duplicate: the provider already had it",
            "contentType": "application/json",
            "payload": self.ref(SmsReceipt),
        }
        self.channels["sms.outbound"] = {
            "address": ROUTING_KEY,
            "title": "SMS to the providers",
            "summary": (
                f"Adapters consume the priority queue {self.name('sms', 'provider')} bound to it"
            ),
            "messages": {"sms": {"$ref": "#/components/messages/sms.outbound"}},
            "bindings": {
                "amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": AMQP_BINDING}
            },
        }
        self.channels["sms.receipts"] = {
            "address": receipts,
            "title": "SMS receipts",
            "messages": {"receipt": {"$ref": "#/components/messages/sms.receipt"}},
            "bindings": {
                "amqp": {
                    "is": "queue",
                    "queue": {
                        "name": receipts,
                        "durable": True,
                        "exclusive": False,
                        "autoDelete": False,
                        "vhost": "/",
                    },
                    "bindingVersion": AMQP_BINDING,
                }
            },
        }
        outbound = {"$ref": "#/channels/sms.outbound/messages/sms"}
        receipt = {"$ref": "#/channels/sms.receipts/messages/receipt"}
        for op_id, action, channel, message, summary in (
            ("notify.sends.sms", "send", "sms.outbound", outbound, "notify hands an SMS over"),
            (
                "adapter.receives.sms",
                "receive",
                "sms.outbound",
                outbound,
                "A provider adapter sends it once per out_id",
            ),
            ("adapter.sends.receipt", "send", "sms.receipts", receipt, "An adapter reports"),
            ("notify.receives.receipt", "receive", "sms.receipts", receipt, "notify settles it"),
        ):
            self.operations[op_id] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel}"},
                "summary": summary,
                "messages": [message],
            }


def _content(with_file: bool, how: str) -> dict:
    if not with_file:
        return {"contentType": JSON}
    return {"contentType": ATTACHED, "description": how}
