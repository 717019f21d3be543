"""The web pages."""

import aiohttp_jinja2
from aiohttp import web


@aiohttp_jinja2.template("index.html")
async def index(_request: web.Request) -> dict:
    return {}
