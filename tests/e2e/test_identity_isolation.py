"""Every accounts endpoint of the API, tried by everyone who has no business there."""

import aiohttp
import pytest

from tests.e2e.people import PASSWORD_HASH, new_unit, new_user, signed_in
from tests.e2e.test_identity_api import IDENTITY_PATHS

# What a well-formed request to each endpoint looks like (so a refusal is about who asks).
BODIES = {
    ("post", "/api/{kind}"): {
        "name": "王五",
        "mobile": "13912345678",
        "email": "w@e.cn",
        "username": "intruder01",
        "password": "Zc7Shenpi",
        "id_number": "11010519491231002X",
        "gender": "女",
    },
    ("patch", "/api/{kind}/{id}"): {"name": "被改名"},
    ("post", "/api/{kind}/{id}/status"): {"active": False},
    ("post", "/api/{kind}/{id}/password"): {
        "new_password": "Hacked123",
        "new_password_confirm": "Hacked123",
    },
    ("post", "/api/reviewers"): {
        "role": "office",
        "org_id": "x",
        "org_name": "x",
        "name": "某某",
        "username": "intruder02",
        "password": "Zc7Shenpi",
        "mobile": "13912345679",
    },
}
UNIT_PATHS = [p for p in IDENTITY_PATHS if p.startswith(("/api/operators", "/api/applicants"))]


@pytest.fixture(scope="module")
async def victims(gateway, services):
    """Unit A's operator and applicant, and their admin, who alone may manage them."""
    unit_a = await new_unit(services)
    return {
        "unit_a": unit_a,
        "operator": await new_user(services, "unit_operator", unit_id=unit_a, name="李四"),
        "applicant": await new_user(services, "applicant", unit_id=unit_a, name="李四"),
        "reviewer": await new_user(
            services, "committee", org_id="cmte-victim", org_name="某评委会", name="周评审"
        ),
    }


OUTSIDERS = [
    "other unit's admin",
    "other unit's operator",
    "applicant of the unit",
    "department",
    "office",
    "committee",
    "sysadmin",
    "anonymous",
]


async def outsider_client(gateway, services, who: str, unit_a):
    from tests.e2e.identity_helpers import Client

    if who == "anonymous":
        return Client(str(gateway.make_url("")))
    if who == "applicant of the unit":
        return await signed_in(gateway, services, "applicant", unit_id=unit_a)
    if who.startswith("other unit"):
        role = "unit_admin" if who.endswith("admin") else "unit_operator"
        return await signed_in(gateway, services, role, unit_id=await new_unit(services))
    if who == "sysadmin":
        return await signed_in(gateway, services, "sysadmin")
    return await signed_in(gateway, services, who, org_id=f"{who}-x", org_name=who)


def requests_for(path: str, victims: dict) -> list[tuple[str, str, dict | None]]:
    kind = "operators" if path.startswith("/api/operators") else "applicants"
    target = victims["operator" if kind == "operators" else "applicant"]["id"]
    concrete = path.replace("{id}", str(target))
    generic = path.replace(f"/api/{kind}", "/api/{kind}")
    return [
        (method, concrete, BODIES.get((method, generic))) for method in sorted(IDENTITY_PATHS[path])
    ]


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_no_outsider_reads_or_changes_a_units_people_through_any_endpoint(
    gateway, services, victims, who
):
    client = await outsider_client(gateway, services, who, victims["unit_a"])
    try:
        for path in UNIT_PATHS:
            for method, url, body in requests_for(path, victims):
                own_collection = "{id}" not in path and who.startswith("other unit")
                if own_collection and method == "post":
                    continue  # another unit's staff add people to their own unit: allowed
                if url.endswith("/import"):
                    form = aiohttp.FormData()
                    form.add_field("file", b"PK", filename="people.xlsx")
                    status, answer = await client.api(method, url, data=form)
                else:
                    status, answer = await client.api(method, url, body)
                if own_collection:  # their own list, if any: it must not hold unit A's people
                    assert status in (200, 403) and "李四" not in str(answer), (who, url)
                    continue
                assert status in (401, 403, 404), (who, method, url, status, answer)
                assert "李四" not in str(answer), (who, method, url)
    finally:
        await client.close()
    for person in ("operator", "applicant"):
        row = await services["accounts"].pool.fetchrow(
            "SELECT name, active FROM users WHERE id = $1", victims[person]["id"]
        )
        assert (row["name"], row["active"]) == ("李四", True)


REVIEWER_PATHS = [p for p in IDENTITY_PATHS if p.startswith("/api/reviewers")]


@pytest.mark.parametrize("who", [w for w in OUTSIDERS if w != "sysadmin"])
async def test_only_the_sysadmin_reaches_reviewer_accounts(gateway, services, victims, who):
    client = await outsider_client(gateway, services, who, victims["unit_a"])
    reviewer = victims["reviewer"]
    try:
        for path in REVIEWER_PATHS:
            url = path.replace("{id}", str(reviewer["id"]))
            generic = path.replace("/api/reviewers/{id}", "/api/{kind}/{id}")
            for method in sorted(IDENTITY_PATHS[path]):
                body = BODIES.get((method, path)) or BODIES.get((method, generic))
                status, answer = await client.api(method, url, body)
                assert status in (401, 403), (who, method, url, status)
                assert "周评审" not in str(answer), (who, method, url)
    finally:
        await client.close()
    row = await services["accounts"].pool.fetchrow(
        "SELECT name, active, password_hash FROM users WHERE id = $1", reviewer["id"]
    )
    assert (row["name"], row["active"], row["password_hash"]) == ("周评审", True, PASSWORD_HASH)
