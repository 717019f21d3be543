"""The web pages."""

from aiohttp import web

from gateway.web import render


async def index(request: web.Request) -> web.Response:
    return render(request, "index.html", {})
