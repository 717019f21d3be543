"""JSON responses that keep Chinese text readable."""

import functools
import json

from aiohttp import web

dumps = functools.partial(json.dumps, ensure_ascii=False, default=str)
json_response = functools.partial(web.json_response, dumps=dumps)
