"""The signed-in people that the workflow tests stand on."""

from tests.e2e.people import reviewers, unit_people


async def test_every_role_signs_in_and_sees_its_home(gateway, services):
    people = {**(await unit_people(gateway, services)), **(await reviewers(gateway, services))}
    try:
        for role in ("operator", "applicant", "department", "office", "committee"):
            status, page, where = await people[role].page("/home")
            assert (status, where) == (200, "/home"), role
            assert people[role].person["name"] in page
    finally:
        for client in people.values():
            if hasattr(client, "close"):
                await client.close()
