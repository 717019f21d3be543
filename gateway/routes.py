"""Every URL of the gateway, by name."""

from pathlib import Path

from aiohttp import web

from gateway import api, health, pages


def setup(app: web.Application, static_dir: Path) -> None:
    app.router.add_get("/healthz", health.healthz, name="healthz")
    app.router.add_get("/readyz", health.readyz, name="readyz")
    app.router.add_get("/api/openapi.json", api.openapi_document, name="openapi")
    app.router.add_get("/api/services/{service}/stats", api.service_stats, name="service_stats")
    app.router.add_get("/", pages.index, name="index")
    app.router.add_static("/static/", static_dir, name="static")
