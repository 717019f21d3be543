"""The AsyncAPI document (shared/asyncapi.py, served at /api/asyncapi.json) against the
official AsyncAPI 3.0.0 JSON schema, and against the registry: every event with its payload
schema, every consumer, every RPC method with its params and result."""

import copy
import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest

from shared.asyncapi import asyncapi_document
from shared.contracts.registry import EVENTS, SERVICES
from shared.settings import Settings

SCHEMA = Path(__file__).resolve().parents[1] / "support/asyncapi/asyncapi-3.0.0.schema.json"
SCHEMA_SHA256 = "abe96881dbfaad495ccbb6bd8d3fb43ca18a13b9d7564849ccb66f39d5e5b20f"
KEY = re.compile(r"^[\w\d\.\-_]+$")  # the spec's pattern for component and channel keys


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA.read_text())
    assert schema["properties"]["asyncapi"]["const"] == "3.0.0"
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def document() -> dict:
    return asyncapi_document(Settings(broker_prefix="zcdoc"))


def errors(validator, document) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(document)
    ]


def test_the_document_is_valid_asyncapi_3(validator, document):
    assert errors(validator, document) == []
    json.dumps(document)  # plain JSON


@pytest.mark.parametrize(
    "breakage",
    ["an unknown action", "a payload that is no schema", "an unknown binding", "no info"],
)
def test_the_schema_refuses_a_broken_document(validator, document, breakage):
    """The validation bites: each of these is refused."""
    broken = copy.deepcopy(document)
    if breakage == "an unknown action":
        broken["operations"]["cases.case.get"]["action"] = "publish"
    elif breakage == "a payload that is no schema":
        broken["components"]["messages"]["event.case.transitioned"]["payload"] = {"type": 7}
    elif breakage == "an unknown binding":
        broken["channels"]["rpc.cases"]["bindings"]["amqp"]["is"] = "mailbox"
    else:
        del broken["info"]
    assert errors(validator, broken)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def resolve(document: dict, ref: str):
    """What a reference points to, following references to references."""
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if isinstance(node, dict) and set(node) == {"$ref"}:
        return resolve(document, node["$ref"])
    return node


def test_every_reference_resolves_and_every_key_is_a_valid_name(document):
    refs = set(_refs(document))
    assert len(refs) > 300
    for ref in refs:
        resolve(document, ref)  # KeyError when it points nowhere
    for section in ("schemas", "messages"):
        assert all(KEY.match(key) for key in document["components"][section])
    assert all(KEY.match(key) for key in [*document["channels"], *document["operations"]])


def test_every_event_is_listed_with_its_payload_schema_producer_and_consumers(document):
    channels, operations = document["channels"], document["operations"]
    for event in EVENTS.values():
        channel = channels[f"event.{event.type}"]
        assert channel["address"] == event.type  # the routing key
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "zcdoc.events"
        message = resolve(document, channel["messages"][event.type]["$ref"])
        envelope = resolve(document, message["payload"]["$ref"])
        typed = envelope["allOf"][1]["properties"]
        assert typed["type"] == {"const": event.type}
        payload = resolve(document, typed["payload"]["$ref"])
        assert set(payload["properties"]) == set(event.payload.model_fields)
        assert operations[f"{event.producer}.publishes.{event.type}"]["action"] == "send"
        for consumer in event.consumers:
            assert operations[f"{consumer}.consumes.{event.type}"]["action"] == "receive"
    published = {op.split(".publishes.")[1] for op in operations if ".publishes." in op}
    assert published == set(EVENTS)


def test_every_rpc_method_has_its_request_and_reply(document):
    channels, operations = document["channels"], document["operations"]
    for service, api in SERVICES.items():
        channel = channels[f"rpc.{service}"]
        assert channel["address"] == f"zcdoc.rpc.{service}"
        assert set(channel["messages"]) == set(api.names)
        for method in api:
            operation = operations[f"{service}.{method.name}"]
            request = resolve(document, operation["messages"][0]["$ref"])
            properties = request["payload"]["properties"]
            assert properties["method"] == {"const": method.name}
            if method.params is not None:
                params = resolve(document, properties["params"]["$ref"])
                assert set(params["properties"]) == set(method.params.model_fields)
            reply = resolve(document, operation["reply"]["messages"][0]["$ref"])
            ok, failure = reply["payload"]["oneOf"]
            result = ok["properties"]["result"]
            assert "$ref" in result, method  # every method names its result
            assert failure == {"$ref": "#/components/schemas/RpcFailure"}


def test_the_snapshot_of_each_document_kind_is_there(document):
    request = document["components"]["messages"]["rpc.documents.documents.render.request"]
    by_kind = request["x-by-case"]
    assert set(by_kind) == {
        "pre_publicity_roster",
        "registration_form",
        "pre_publicity_report",
        "declaration_form",
        "post_publicity_roster",
        "post_publicity_report",
    }
    roster = resolve(document, by_kind["pre_publicity_roster"]["$ref"])
    assert {"unit_name", "round_name", "publicity", "people"} <= set(roster["properties"])


def test_the_sms_provider_contract_is_there(document):
    outbound = document["channels"]["sms.outbound"]
    assert outbound["bindings"]["amqp"]["exchange"]["name"] == "zcdoc.sms.outbound"
    assert document["channels"]["sms.receipts"]["address"] == "zcdoc.sms.receipts"
    sms = resolve(document, "#/components/messages/sms.outbound")
    assert "out_id" in resolve(document, sms["payload"]["$ref"])["properties"]


def test_the_server_names_no_credentials():
    settings = Settings(amqp_url="amqp://user:secret@mq.internal:5673/")
    server = asyncapi_document(settings)["servers"]["rabbitmq"]
    assert server["host"] == "mq.internal:5673" and "secret" not in json.dumps(server)
