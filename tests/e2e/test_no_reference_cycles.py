"""A request through the gateway leaves nothing that only the garbage collector can free.

A request kept in a reference cycle (the page context of aiohttp_jinja2's middleware
referred back to it) is freed only by a collection: under load the gateway paused for
30-40 ms every two seconds to free ~50,000 such objects (bench/README.md, "No cycle per
request"). This asks the collector what it would have freed after API calls and pages, a
signed-in person's and an anonymous one's, and finds no request among it.
"""

import gc

from aiohttp import web

from tests.e2e.people import new_unit, signed_in

PAGES = ("/", "/login", "/home")
API_CALLS = (("GET", "/api/session"), ("GET", "/api/cases/home"))


async def test_requests_and_pages_leave_no_cycle(gateway, services):
    operator = await signed_in(gateway, services, "unit_operator", unit_id=await new_unit(services))
    try:
        await _visit(operator)  # what the first visit caches (templates, routes) is not garbage
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection frees is kept in gc.garbage instead
        try:
            await _visit(operator)
            gc.collect()
            requests = [o for o in gc.garbage if isinstance(o, web.BaseRequest)]
            paths = sorted({r.path for r in requests})
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    finally:
        await operator.close()
    assert paths == [], f"requests freed only by the garbage collector: {paths}"


async def _visit(client) -> None:
    for path in PAGES:
        status, _, _ = await client.page(path)
        assert status == 200, path
    for method, path in API_CALLS:
        status, answer = await client.api(method, path)
        assert status == 200, (path, answer)
