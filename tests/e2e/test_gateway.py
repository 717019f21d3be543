"""The gateway's own endpoints, with every service running for real."""

import pytest

from tests.e2e.people import signed_in


async def test_healthz_says_alive(http):
    async with http.get("/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "alive"}


async def test_readyz_is_green_when_every_service_answers(http):
    async with http.get("/readyz") as response:
        body = await response.json()
    assert response.status == 200, body
    assert set(body["services"]) == {"accounts", "cases", "documents", "notify"}
    assert all(answer["ok"] for answer in body["services"].values())


async def test_readyz_names_the_service_that_does_not_answer(http, services, settings):
    await services["notify"].pause()
    try:
        async with http.get("/readyz") as response:
            body = await response.json()
        assert response.status == 503
        assert body["status"] == "not_ready"
        assert body["services"]["notify"]["ok"] is False
        assert "notify" in body["services"]["notify"]["error"]
        assert body["services"]["cases"]["ok"] is True
    finally:
        await services["notify"].resume()


async def test_a_stopped_service_gives_a_503_json_error_not_a_hang(gateway, services):
    sysadmin = await signed_in(gateway, services, "sysadmin", name="系统管理员")
    await services["documents"].pause()
    try:
        status, body = await sysadmin.api("GET", "/api/services/documents/stats")
        assert status == 503
        assert body["error"]["code"] == "service_unavailable"
        assert "服务暂时不可用" in body["error"]["message"]
    finally:
        await services["documents"].resume()
        await sysadmin.close()


async def test_the_openapi_document_lists_the_api(http):
    async with http.get("/api/openapi.json") as response:
        document = await response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/services/{service}/stats" in document["paths"]


async def test_the_asyncapi_document_lists_every_event_and_rpc_queue(http, settings):
    """Served beside the OpenAPI document, with this deployment's broker names; its
    validity against the AsyncAPI schema is tests/unit/test_asyncapi.py's."""
    from shared.contracts.registry import EVENTS, SERVICES

    async with http.get("/api/asyncapi.json") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        document = await response.json()
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    for event in EVENTS.values():
        channel = channels[f"event.{event.type}"]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == settings.name("events")
        payload = document["components"]["schemas"][f"Event.{event.type}"]
        assert payload["allOf"][1]["properties"]["payload"]["$ref"].startswith(
            "#/components/schemas/"
        )
    for service in SERVICES:
        assert channels[f"rpc.{service}"]["address"] == settings.name("rpc", service)
    notice = channels["event.case.applicant_notice"]
    assert "case.applicant_notice" in notice["messages"]


@pytest.mark.parametrize("path", ["/no-such-page", "/cases/does/not/exist"])
async def test_an_unknown_page_gets_the_chinese_404_page(http, path):
    async with http.get(path) as response:
        text = await response.text()
    assert response.status == 404
    assert "页面不存在" in text and 'lang="zh-CN"' in text


async def test_an_unknown_api_path_gets_a_json_404(http):
    async with http.get("/api/no-such-thing") as response:
        body = await response.json()
    assert response.status == 404
    assert body["error"]["status"] == 404


async def test_the_home_page_shows_the_entries_of_the_manual(http):
    async with http.get("/") as response:
        text = await response.text()
    assert response.status == 200
    for entry in ("申报个人入口", "用人单位入口", "用人单位注册入口"):
        assert entry in text
