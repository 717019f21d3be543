"""`make run REPLICAS=...` (tools.runall --replicas): what it starts, and what it refuses."""

import pytest

from tools.runall import PROCESSES, copies_to_start, parse_replicas


def labels(spec: str, names=tuple(PROCESSES)) -> list[str]:
    return [c.label for c in copies_to_start(list(names), parse_replicas(spec))]


def test_one_copy_of_each_by_default_under_the_names_it_always_had():
    assert labels("1") == list(PROCESSES)


def test_two_copies_of_each_service_and_of_the_gateway_but_one_sms_adapter():
    started = labels("2")
    for name in ("accounts", "cases", "documents", "notify", "gateway"):
        assert started.count(name) == 1 and started.count(f"{name}-2") == 1
    assert started.count("sms-dev") == 1


def test_copies_per_process_and_only_of_the_processes_asked_for():
    assert labels("1,documents=3,cases=2", ("cases", "documents")) == [
        "cases",
        "cases-2",
        "documents",
        "documents-2",
        "documents-3",
    ]


def test_each_copy_knows_its_process_and_its_number_from_0():
    started = copies_to_start(["documents"], parse_replicas("documents=3"))
    assert [(c.name, c.copy, c.module) for c in started] == [
        ("documents", n, "services.documents") for n in range(3)
    ]


def test_gateway_copies_share_the_port_and_a_single_gateway_does_not():
    shared = {c.label: c.env for c in copies_to_start(["gateway"], parse_replicas("2"))}
    assert shared == {
        "gateway": {"ZC_GATEWAY_REUSE_PORT": "true", "ZC_METRICS_PORT": "9100"},
        "gateway-2": {"ZC_GATEWAY_REUSE_PORT": "true", "ZC_METRICS_PORT": "9110"},
    }
    [alone] = copies_to_start(["gateway"], parse_replicas("1"))
    assert alone.env == {"ZC_METRICS_PORT": "9100"}


def test_every_copy_has_a_metrics_port_of_its_own_and_an_sms_adapter_none():
    started = copies_to_start(list(PROCESSES), parse_replicas("2"))
    ports = {c.label: c.env.get("ZC_METRICS_PORT") for c in started}
    assert ports["gateway"] == "9100" and ports["cases"] == "9102" and ports["cases-2"] == "9112"
    assert ports["notify-2"] == "9114" and ports["sms-dev"] is None
    given = [p for p in ports.values() if p is not None]
    assert len(given) == len(set(given)) == 10


@pytest.mark.parametrize("spec", ["0", "two", "10", "cases=0", "sms-dev=2", "ghost=2", "cases="])
def test_a_spec_that_makes_no_sense_is_refused_with_a_reason(spec):
    with pytest.raises(ValueError) as refused:
        parse_replicas(spec)
    assert str(refused.value)
