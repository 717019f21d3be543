"""Typed application state."""

from aiohttp import web

from gateway.sessions import SessionCache
from shared.rpc import RpcClient
from shared.settings import Settings

settings_key = web.AppKey("settings", Settings)
rpc_key = web.AppKey("rpc", RpcClient)
asyncapi_key = web.AppKey("asyncapi", dict)  # shared/asyncapi.py, built at start
session_cache_key = web.AppKey("session_cache", SessionCache)  # gateway/sessions.py
