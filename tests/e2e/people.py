"""Signed-in people of every role for the case workflow tests, made straight in the database.

Accounts are test fixtures here (the identity tests cover how they are made through the
pages); each comes back as a Client that has logged in through the gateway.
"""

import uuid

from services.accounts.domain.credentials import hash_password
from services.accounts.personal import sealed_user
from tests.e2e.identity_helpers import PASSWORD, Client, gender_of, id_number, mobile, username

PASSWORD_HASH = hash_password(PASSWORD)


async def new_unit(services, name: str = "深圳市测试科技有限公司") -> uuid.UUID:
    unit_id = uuid.uuid4()
    await services["accounts"].pool.execute(
        "INSERT INTO units (id, org_code, name, si_unit_no, source)"
        " VALUES ($1, $2, $3, '4403000000', 'local')",
        unit_id,
        uuid.uuid4().hex[:9].upper(),
        name,
    )
    return unit_id


async def new_user(
    services, role: str, *, unit_id=None, org_id=None, org_name=None, name: str = "张三"
) -> dict:
    person = {
        "id": uuid.uuid4(),
        "username": username(role[:3]),
        "name": name,
        "mobile": mobile(),
        "id_number": None,
        "gender": None,
    }
    if role == "applicant":
        person["id_number"] = id_number()
        person["gender"] = gender_of(person["id_number"])
    sealed = sealed_user(person)
    await services["accounts"].pool.execute(
        "INSERT INTO users (id, username, password_hash, role, unit_id, org_id, org_name, name,"
        " id_number, id_number_index, gender, mobile, mobile_index)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        person["id"],
        person["username"],
        PASSWORD_HASH,
        role,
        unit_id,
        org_id,
        org_name,
        name,
        sealed["id_number"],
        sealed["id_number_index"],
        person["gender"],
        sealed["mobile"],
        sealed["mobile_index"],
    )
    return person


async def signed_in(gateway, services, role: str, **kwargs) -> Client:
    """A Client logged in as a new user of `role` (kwargs as for new_user)."""
    person = await new_user(services, role, **kwargs)
    client = Client(str(gateway.make_url("")))
    status, _, where = await client.login(person["username"])
    if status != 200 or where == "/login":
        await client.close()  # not left for a later test's garbage collection to warn of
        raise AssertionError(f"login failed for {role}: {status} {where}")
    client.person = person
    return client


async def unit_people(gateway, services) -> dict[str, Client]:
    """A unit's operator and applicant, each signed in."""
    unit_id = await new_unit(services)
    return {
        "unit_id": unit_id,
        "operator": await signed_in(
            gateway, services, "unit_operator", unit_id=unit_id, name="陈经办"
        ),
        "applicant": await signed_in(gateway, services, "applicant", unit_id=unit_id, name="张三"),
    }


async def reviewers(gateway, services) -> dict[str, Client]:
    """The department, office and committee that the demo committee cmte-qg-gj leads to."""
    return {
        "department": await signed_in(
            gateway, services, "department", org_id="dept-gcslh", org_name="深圳市工程师联合会"
        ),
        "office": await signed_in(
            gateway, services, "office", org_id="office-zjc", org_name="专技处"
        ),
        "committee": await signed_in(
            gateway,
            services,
            "committee",
            org_id="cmte-qg-gj",
            org_name="深圳市轻工专业高级专业技术资格评审委员会",
        ),
    }
