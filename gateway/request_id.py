"""Each HTTP request's id: taken from `X-Request-ID` when the caller (or a proxy) sent a
usable one, made otherwise; set for everything the request does (shared/correlation.py),
answered back in `X-Request-ID`, and on the request's access log line. The case of a
route's `{case_id}` is set here too, and who acts by the session middleware once it knows
(gateway/auth.py); all three are cleared after the access line, which carries them."""

import logging
import time

from aiohttp import web

from shared import correlation

HEADER = "X-Request-ID"
access_log = logging.getLogger("gateway.access")


@web.middleware
async def request_id_middleware(request: web.Request, handler) -> web.StreamResponse:
    request_id = correlation.accepted(request.headers.get(HEADER))
    token = correlation.request_id.set(request_id)
    actor_token = correlation.actor.set(None)
    case_token = correlation.case_id.set((request.match_info.get("case_id") or "")[:64] or None)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[HEADER] = request_id
        return response
    except web.HTTPException as exc:  # redirects and the like, raised rather than returned
        status = exc.status
        exc.headers[HEADER] = request_id
        raise
    finally:
        access_log.info(
            '%s "%s %s" %d %.3fs',
            request.remote,
            request.method,
            request.path_qs,
            status,
            time.perf_counter() - started,
        )
        correlation.case_id.reset(case_token)
        correlation.actor.reset(actor_token)
        correlation.request_id.reset(token)
