"""The gateway counts requests by their route's pattern, never by the path a caller made up: one
series per route however many cases, ids or garbage paths are asked for (the e2e processes
share this test's registry; tests/faults/test_observability.py scrapes real processes)."""

import uuid

from prometheus_client import REGISTRY


def requests(route: str, method: str, status: int) -> float:
    labels = {"route": route, "method": method, "status": str(status)}
    return REGISTRY.get_sample_value("zc_http_requests_total", labels) or 0.0


def series_mentioning(text: str) -> list:
    return [
        sample
        for family in REGISTRY.collect()
        for sample in family.samples
        if any(text in value for value in sample.labels.values())
    ]


async def test_requests_are_counted_by_the_pattern_of_their_route(http):
    case_id = str(uuid.uuid4())
    before = requests("/api/cases/{case_id}", "GET", 401)
    for _ in range(2):
        async with http.get(f"/api/cases/{case_id}") as response:
            assert response.status == 401
    assert requests("/api/cases/{case_id}", "GET", 401) - before == 2
    assert series_mentioning(case_id) == []


async def test_a_path_or_method_no_route_has_is_counted_as_one_series(http):
    garbage = f"/no-such-page-{uuid.uuid4().hex}"
    unmatched, other = requests("unmatched", "GET", 404), requests("unmatched", "other", 403)
    async with http.get(garbage) as response:
        assert response.status == 404
    async with http.request("PROPFIND", garbage) as response:
        assert response.status == 403  # no CSRF token: refused before anything looks further
    assert requests("unmatched", "GET", 404) - unmatched == 1
    assert requests("unmatched", "other", 403) - other == 1
    assert series_mentioning(garbage) == [] and series_mentioning("PROPFIND") == []
