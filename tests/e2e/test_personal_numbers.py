"""显示完整号码 for accounts' people: lists show masks; the unmask endpoint shows one number in
full to whoever may see it, and the audit trail has every answer and refusal."""

import pytest

from shared.masks import mask_id_number, mask_mobile
from tests.e2e.people import new_unit, new_user


@pytest.fixture
def admin_of(services, new_client):
    """A signed-in unit admin of the unit given, as a client closed after the test."""

    async def make(unit_id):
        person = await new_user(services, "unit_admin", unit_id=unit_id)
        client = new_client()
        status, _, where = await client.login(person["username"])
        assert status == 200 and where != "/login"
        client.person = person
        return client

    return make


async def unmask_rows(services, user_id) -> list:
    return await services["accounts"].pool.fetch(
        "SELECT actor_id, outcome, code, details FROM audit_log"
        " WHERE action = 'personal.unmask' AND object_id = $1 ORDER BY seq",
        str(user_id),
    )


async def test_a_unit_admins_people_list_shows_masks_and_unmasks_one_number(admin_of, services):
    unit_id = await new_unit(services)
    admin = await admin_of(unit_id)
    person = await new_user(services, "applicant", unit_id=unit_id)

    status, page = await admin.api("GET", "/api/applicants")
    assert status == 200
    [shown] = page["items"]
    assert shown["id_number"] == mask_id_number(person["id_number"])
    assert shown["mobile"] == mask_mobile(person["mobile"])

    wanted = {"object_type": "user", "object_id": str(person["id"]), "field": "id_number"}
    status, answer = await admin.api("POST", "/api/personal/unmask", wanted)
    assert (status, answer["value"]) == (200, person["id_number"])
    [row] = await unmask_rows(services, person["id"])
    assert (row["outcome"], row["actor_id"], row["details"]) == (
        "ok",
        admin.person["id"],
        {"field": "id_number"},
    )


async def test_the_people_page_offers_the_full_number_without_javascript(admin_of, services):
    unit_id = await new_unit(services)
    admin = await admin_of(unit_id)
    person = await new_user(services, "applicant", unit_id=unit_id)
    _, page, _ = await admin.page("/unit/applicants")
    assert mask_mobile(person["mobile"]) in page and person["mobile"] not in page
    form = {"object_type": "user", "object_id": str(person["id"]), "field": "mobile"}
    status, page, _ = await admin.submit("/personal/unmask", {**form, "back": "/unit/applicants"})
    assert status == 200 and person["mobile"] in page


async def test_another_units_admin_is_refused_and_the_refusal_is_audited(admin_of, services):
    person = await new_user(services, "applicant", unit_id=await new_unit(services))
    stranger = await admin_of(await new_unit(services))
    wanted = {"object_type": "user", "object_id": str(person["id"]), "field": "mobile"}
    status, answer = await stranger.api("POST", "/api/personal/unmask", wanted)
    assert status == 403 and person["mobile"] not in str(answer)
    [row] = await unmask_rows(services, person["id"])
    assert (row["outcome"], row["code"], row["actor_id"]) == (
        "refused",
        "forbidden",
        stranger.person["id"],
    )
