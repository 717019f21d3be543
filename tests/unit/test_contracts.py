"""The contracts (shared/contracts/) are the one definition: every service serves exactly its
contract's methods with the contract's models, every event a service writes or consumes is
in the registry with its producer and consumers, our producers cannot write an event that
breaks its contract, a caller refuses what the service would refuse, and a service answering
outside its contract is caught."""

import ast
import importlib
import json
import re
import uuid
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel, RootModel, ValidationError

from services.accounts.app import AccountsDeps
from services.accounts.app import build_events as accounts_events
from services.accounts.app import build_rpc as accounts_rpc
from services.cases.app import CasesDeps
from services.cases.app import build_events as cases_events
from services.cases.app import build_rpc as cases_rpc
from services.documents.app import DocumentsDeps
from services.documents.app import build_events as documents_events
from services.documents.app import build_rpc as documents_rpc
from services.notify.app import NotifyDeps
from services.notify.app import build_events as notify_events
from services.notify.app import build_rpc as notify_rpc
from shared.contracts import registry
from shared.contracts.accounts.events import SESSIONS_CHANGED
from shared.contracts.base import Method, Reply
from shared.contracts.cases import rpc as cases_contract
from shared.contracts.cases.events import OrganisationRenamed
from shared.contracts.cases.vocabulary import SELECTION_ACTIONS
from shared.envelope import new_event
from shared.rpc import RpcError, RpcRouter, prepare_params

ROOT = Path(__file__).resolve().parents[2]
ROUTERS = {
    "accounts": lambda: accounts_rpc(AccountsDeps()),
    "cases": lambda: cases_rpc(CasesDeps()),
    "documents": lambda: documents_rpc(DocumentsDeps()),
    "notify": lambda: notify_rpc(NotifyDeps()),
}
CONSUMERS = {
    "accounts": accounts_events,
    "cases": lambda: cases_events(CasesDeps()),
    "documents": lambda: documents_events(DocumentsDeps()),
    "notify": lambda: notify_events(NotifyDeps()),
}


@pytest.mark.parametrize("service", ROUTERS)
def test_a_service_serves_exactly_its_contract_with_its_models(service):
    router = ROUTERS[service]()
    api = registry.SERVICES[service]
    assert set(router.methods) == set(api.names)
    for method in api:
        params_model, _handler = router.methods[method.name]
        assert params_model is method.params, method
        if method.result is not None:
            assert router.results[method.name] is method.result, method


def test_every_method_names_a_result_that_forbids_unknown_keys():
    for api in registry.SERVICES.values():
        for method in api:
            assert method.result is not None, method
            if issubclass(method.result, RootModel):  # one of several replies
                replies = get_args(method.result.model_fields["root"].annotation)
            else:
                replies = (method.result,)
            for reply in replies:
                assert issubclass(reply, Reply), method
                assert reply.model_config.get("extra") == "forbid", method


def test_the_reference_forms_post_exactly_the_fields_their_methods_take():
    from gateway.pages.reference_pages import KINDS

    for kind in KINDS.values():
        assert kind.method.service == "cases"
        assert set(kind.labels) == set(kind.method.params.model_fields), kind.key


def test_every_consumed_event_is_in_the_registry_with_its_consumer():
    consumed: dict[str, set[str]] = {}
    for service, build in CONSUMERS.items():
        consumer = build()
        assert consumer.name == service
        for event_type, subscription in consumer.subscriptions.items():
            spec = registry.event(event_type)
            assert spec is not None, f"{service} consumes {event_type}, which no contract names"
            assert service in spec.consumers, (service, event_type)
            # the contract's model, or a consumer's own checks on top of it
            assert issubclass(subscription.payload_model, spec.payload), (service, event_type)
            consumed.setdefault(event_type, set()).add(service)
        for retired in consumer.retired:
            assert service not in registry.EVENTS[retired].consumers
    # every gateway copy drops its cached sessions on this one (gateway/sessions.py)
    consumed.setdefault(SESSIONS_CHANGED.type, set()).add("gateway")
    for spec in registry.EVENTS.values():
        assert set(spec.consumers) == consumed.get(spec.type, set()), spec.type


def _new_event_types() -> list[tuple[str, str, str]]:
    """(service, module, event type) of every new_event(...) call in the services' code."""
    found = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        tree = ast.parse(path.read_text())
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "new_event"
        ]
        if not calls:
            continue
        module_name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        module = importlib.import_module(module_name)
        for call in calls:
            type_expr = ast.Expression(call.args[0])
            event_type = eval(compile(type_expr, str(path), "eval"), vars(module))  # noqa: S307
            found.append((path.relative_to(ROOT).parts[1], module_name, event_type))
    return found


def _trigger_event_types() -> list[tuple[str, str, str]]:
    """(service, migration, event type) of every event a database trigger writes into an
    outbox (the envelope built in SQL: 'type', '<event type>')."""
    found = []
    for path in sorted((ROOT / "services").glob("*/migrations/*.sql")):
        for event_type in re.findall(r"'type',\s*'([a-z0-9_.]+)'", path.read_text()):
            found.append((path.relative_to(ROOT).parts[1], path.name, event_type))
    return found


def test_every_event_a_service_writes_is_in_the_registry_as_its_own():
    written = _new_event_types() + _trigger_event_types()
    assert len(written) >= 6
    for service, module, event_type in written:
        spec = registry.event(event_type)
        assert spec is not None, f"{module} writes {event_type}, which no contract names"
        assert spec.producer == service, (module, event_type)
    ours = {e.type for e in registry.EVENTS.values() if e.producer in registry.SERVICES}
    assert {event_type for _, _, event_type in written} == ours


def test_our_producers_cannot_write_an_event_that_breaks_its_contract():
    renamed = {"role": "committee", "org_id": "cmte-1", "name": "新名称"}
    event = new_event("reference.organisation_renamed", renamed, "cases")
    assert event.payload == renamed
    model = new_event("reference.organisation_renamed", OrganisationRenamed(**renamed), "cases")
    assert model.payload == renamed
    with pytest.raises(ValueError, match="no extra in its contract"):
        new_event("reference.organisation_renamed", renamed | {"extra": 1}, "cases")
    with pytest.raises(ValidationError):
        new_event("reference.organisation_renamed", renamed | {"role": "office"}, "cases")

    class Other(BaseModel):
        role: str

    with pytest.raises(ValueError, match="takes a OrganisationRenamed"):
        new_event("reference.organisation_renamed", Other(role="committee"), "cases")
    # types no contract names (probes, benchmarks) pass as they are
    assert new_event("probe.happened", {"n": "any"}, "p").payload == {"n": "any"}


def test_the_lists_and_the_workflow_agree_on_what_a_selection_takes():
    """Two copies once drifted; the workflow handler's own copy must equal the contract's
    until it imports it."""
    from services.cases.handlers import workflow

    assert getattr(workflow, "SELECTION_ACTIONS", SELECTION_ACTIONS) == SELECTION_ACTIONS


# --- the caller refuses as the service would; a service answering off contract is caught ---


async def _dispatch(router: RpcRouter, method: str, params: dict) -> dict:
    body = json.dumps({"method": method, "params": params}).encode()
    return await router.dispatch(body, pool=None)


@pytest.mark.parametrize(
    "params",
    [
        {"case_ids": []},  # too few
        {"case_ids": ["not-a-uuid"]},
        {"case_ids": [str(uuid.uuid4())], "action": "approve", "inputs": {"reason": "a\x00b"}},
        {"action": "approve"},  # no case_ids
    ],
)
async def test_a_caller_refuses_what_the_service_would_refuse_with_the_same_answer(params):
    router = RpcRouter("cases")

    async def never(_params, _ctx):
        raise AssertionError("refused before the handler")

    router.serve(cases_contract.CASE_BATCH, never)
    reply = await _dispatch(router, "case.batch", params)
    with pytest.raises(RpcError) as refused:
        prepare_params(cases_contract.CASE_BATCH, params)
    assert not reply["ok"]
    assert refused.value.to_dict() == reply["error"]


def test_what_a_caller_sends_is_the_model_as_json():
    case_id = uuid.uuid4()
    sent = prepare_params(
        cases_contract.CASE_BATCH, {"case_ids": [case_id], "action": "pass_review"}
    )
    assert sent == {"case_ids": [str(case_id)], "action": "pass_review", "inputs": {}}
    assert prepare_params(cases_contract.CASE_HOME, None) == {}


async def test_a_result_outside_the_contract_is_an_internal_error_when_checked():
    method = Method("probe", "probe.get", None, cases_contract.Allowed, "a probe")

    async def answers(_params, _ctx):
        return {"allowed": True, "also": "a key the contract does not name"}

    router = RpcRouter("probe", check_results=True)
    router.serve(method, answers)
    reply = await _dispatch(router, "probe.get", {})
    assert reply == {
        "ok": False,
        "error": {"code": "contract_broken", "message": "系统内部错误", "status": 500},
    }
    router.check_results = False  # production: answered as it is
    assert (await _dispatch(router, "probe.get", {}))["ok"]
