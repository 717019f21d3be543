"""A request leaves nothing that only the garbage collector can free.

A request kept in a reference cycle (the page context of aiohttp_jinja2's middleware
referred back to it) is freed only by a collection: under load the gateway paused for
30-40 ms every two seconds to free ~50,000 such objects (bench/README.md, "No cycle per
request"). These ask the collector what it would have freed after pages and API calls, a
signed-in person's and an anonymous one's. The services run in this process too (the e2e
fixtures), so an API call's whole way is looked at: gateway, broker client, service, pool.
"""

import contextlib
import gc

from aiohttp import web

from tests.e2e.people import new_unit, signed_in

PAGES = ("/", "/login", "/home")
ZERO_ID = "00000000-0000-0000-0000-000000000000"
# answered, refused by the service (404), refused by the params model (422)
API_CALLS = (
    ("GET", "/api/session", None, 200),
    ("GET", "/api/cases/home", None, 200),
    ("GET", f"/api/cases/{ZERO_ID}", None, 404),
    ("POST", "/api/cases/batch", {"case_ids": ["x"], "action": "approve"}, 422),
)
ROUNDS = 10


async def test_pages_leave_no_request_in_a_cycle(gateway, services):
    # Jinja's macros make cycles of their own (templates import them with context): the
    # request must not be in them, or it lives, with its body, until the next collection.
    async with _operator(gateway, services) as operator:
        await _pages(operator)  # what the first visit caches (templates, routes) is not garbage
        garbage = await _left_for_the_collector(_pages, operator)
    paths = sorted({o.path for o in garbage if isinstance(o, web.BaseRequest)})
    assert paths == [], f"requests freed only by the garbage collector: {paths}"


async def test_api_calls_leave_nothing_for_the_collector(gateway, services):
    async with _operator(gateway, services) as operator:
        await _api_calls(operator)
        garbage = await _left_for_the_collector(_api_calls, operator)
    kinds = sorted({type(o).__qualname__ for o in garbage})
    # a handful of objects made once (a type built on first use) at most; not one a call
    assert len(garbage) < ROUNDS, f"{len(garbage)} objects in cycles: {kinds}"


async def _left_for_the_collector(visit, client) -> list:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection frees is kept in gc.garbage instead
    try:
        for _ in range(ROUNDS):
            await visit(client)
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@contextlib.asynccontextmanager
async def _operator(gateway, services):
    unit_id = await new_unit(services)
    client = await signed_in(gateway, services, "unit_operator", unit_id=unit_id)
    try:
        yield client
    finally:
        await client.close()


async def _pages(client) -> None:
    for path in PAGES:
        status, _, _ = await client.page(path)
        assert status == 200, path


async def _api_calls(client) -> None:
    for method, path, body, expected in API_CALLS:
        status, answer = await client.api(method, path, body)
        assert status == expected, (path, answer)
