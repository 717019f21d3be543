"""bench/_http.py: the lean client the measured phases use, against a real aiohttp server."""

import asyncio
import json

import pytest
from aiohttp import web

from bench._http import Connections, HttpError, KeptAlive


@pytest.fixture
async def server():
    peers = []

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        body = await request.json() if request.can_read_body else None
        answer = {"body": body, "cookie": request.headers.get("Cookie")}
        response = web.json_response(answer, status=201 if body else 200)
        if request.path == "/closing":
            response.force_close()
        return response

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)  # no length known: a chunked answer
        await response.write(b"{}")
        return response

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/closing", echo)
    app.router.add_get("/streamed", streamed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", peers
    await runner.cleanup()


async def test_requests_go_one_after_another_on_one_kept_connection(server):
    url, peers = server
    client = KeptAlive(url, {"Cookie": "zc_session=abc"})
    try:
        first = await client.request("POST", "/echo", {"case_id": "x", "choice": "agree"})
        second = await client.request("GET", "/echo")
        third = await client.request("POST", "/echo", {"n": 3})
    finally:
        await client.close()
    assert first == (201, {"body": {"case_id": "x", "choice": "agree"}, "cookie": "zc_session=abc"})
    assert second == (200, {"body": None, "cookie": "zc_session=abc"})
    assert third[0] == 201 and third[1]["body"] == {"n": 3}
    assert len(peers) == 3 and len(set(peers)) == 1


async def test_a_connection_the_server_closes_is_opened_again(server):
    url, peers = server
    client = KeptAlive(url, {})
    try:
        assert (await client.request("GET", "/closing"))[0] == 200
        assert (await client.request("GET", "/echo"))[0] == 200
    finally:
        await client.close()
    assert len(set(peers)) == 2


async def test_an_answer_without_a_length_is_refused(server):
    url, _ = server
    client = KeptAlive(url, {})
    try:
        with pytest.raises(HttpError, match="without Content-Length"):
            await client.request("GET", "/streamed")
    finally:
        await client.close()


async def test_connections_open_one_per_request_in_flight_and_keep_them(server):
    url, peers = server
    connections = Connections(url, {"Cookie": "zc_session=abc"})
    try:
        answers = await asyncio.gather(*(connections.exchange("GET", "/echo") for _ in range(5)))
        again = await connections.exchange("GET", "/echo")
    finally:
        await connections.close()
    assert all(status == 200 for status, _ in answers)
    assert json.loads(again[1]) == {"body": None, "cookie": "zc_session=abc"}
    assert len(set(peers[:5])) == 5  # five at once: five connections
    assert peers[5] in peers[:5]  # the sixth on one of them, kept alive
