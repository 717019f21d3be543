"""Tenant isolation in the accounts service: every method, every other unit and role."""

import uuid

import pytest

from services.accounts.handlers.reviewers import create_sysadmin
from shared.rpc import Actor, RpcError
from tests.support.accounts_driver import PASSWORD, mobile, username

USER_METHODS = {
    "users.get": lambda role, uid: {"role": role, "user_id": uid},
    "users.update": lambda role, uid: {
        "role": role,
        "user_id": uid,
        "fields": {
            "name": "改名",
            "mobile": mobile(),
            "email": "x@y.cn",
            "gender": "男",
            "id_number": "",
        },
    },
    "users.set_active": lambda role, uid: {"role": role, "user_id": uid, "active": False},
    "users.delete": lambda role, uid: {"role": role, "user_id": uid},
    "users.set_password": lambda role, uid: {
        "role": role,
        "user_id": uid,
        "new_password": "Hacked123",
        "new_password_confirm": "Hacked123",
    },
}


@pytest.fixture(scope="module")
async def world(identity):
    """Unit A (admin, operator, applicant), unit B (admin), sysadmin and reviewers."""
    accounts = identity
    _, admin_a = await accounts.new_unit_admin()
    operator_a = await accounts.new_person(admin_a, role="unit_operator")
    applicant_a = await accounts.new_person(admin_a)
    _, admin_b = await accounts.new_unit_admin()
    sys_name = username("sys")
    sys_id = await create_sysadmin(accounts.service.pool, sys_name, PASSWORD, "系统管理员")
    sysadmin = Actor(user_id=sys_id, role="sysadmin")
    reviewers = {}
    for role in ("department", "office", "committee"):
        name = username(role[:3])
        await accounts.call(
            "reviewers.create",
            {
                "role": role,
                "org_id": f"{role}-1",
                "org_name": f"{role} 机构",
                "name": "审核员",
                "username": name,
                "password": PASSWORD,
                "mobile": mobile(),
            },
            actor=sysadmin,
        )
        reviewers[role] = await accounts.actor(name)
    target = username("rev")  # the reviewer account everyone but the sysadmin tries to touch
    created = await accounts.call(
        "reviewers.create",
        {
            "role": "committee",
            "org_id": "committee-2",
            "org_name": "评委会 机构",
            "name": "周评审",
            "username": target,
            "password": PASSWORD,
            "mobile": mobile(),
        },
        actor=sysadmin,
    )
    return {
        "accounts": accounts,
        "admin_a": admin_a,
        "admin_b": admin_b,
        "sysadmin": sysadmin,
        "operator_a": await accounts.actor(operator_a["username"]),
        "applicant_a": await accounts.actor(applicant_a["username"]),
        "operator_id": operator_a["id"],
        "applicant_id": applicant_a["id"],
        "reviewer_id": created["user_id"],
        "reviewer_hash": await accounts.service.pool.fetchval(
            "SELECT password_hash FROM users WHERE id = $1", uuid.UUID(created["user_id"])
        ),
        **reviewers,
    }


OUTSIDERS = ["admin_b", "applicant_a", "department", "office", "committee", "sysadmin", None]


@pytest.mark.parametrize("method", sorted(USER_METHODS))
@pytest.mark.parametrize("target", ["applicant", "unit_operator"])
@pytest.mark.parametrize("outsider", OUTSIDERS)
async def test_nobody_outside_the_unit_touches_its_people(world, method, target, outsider):
    accounts = world["accounts"]
    target_id = world["applicant_id" if target == "applicant" else "operator_id"]
    actor = world[outsider] if outsider else Actor()
    with pytest.raises(RpcError) as refused:
        await accounts.call(method, USER_METHODS[method](target, target_id), actor=actor)
    assert refused.value.status in (403, 404)
    assert refused.value.details is None and not refused.value.fields
    row = await accounts.service.pool.fetchrow(
        "SELECT name, active FROM users WHERE id = $1", uuid.UUID(target_id)
    )
    assert row["name"] == "李四" and row["active"]


@pytest.mark.parametrize("method", sorted(USER_METHODS))
async def test_an_operator_cannot_manage_operators(world, method):
    with pytest.raises(RpcError) as refused:
        await world["accounts"].call(
            method,
            USER_METHODS[method]("unit_operator", world["operator_id"]),
            actor=world["operator_a"],
        )
    assert refused.value.status == 403


@pytest.mark.parametrize("outsider", OUTSIDERS)
async def test_lists_never_show_another_units_people(world, outsider):
    accounts = world["accounts"]
    actor = world[outsider] if outsider else Actor()
    for role in ("applicant", "unit_operator"):
        try:
            listed = await accounts.call("users.list", {"role": role}, actor=actor)
        except RpcError as refused:
            assert refused.status == 403
            continue
        ids = {item["id"] for item in listed["items"]}
        assert world["applicant_id"] not in ids and world["operator_id"] not in ids


@pytest.mark.parametrize(
    "outsider", ["applicant_a", "department", "office", "committee", "sysadmin", None]
)
async def test_only_unit_staff_create_and_import_applicants(world, outsider):
    accounts = world["accounts"]
    actor = world[outsider] if outsider else Actor()
    with pytest.raises(RpcError) as refused:
        await accounts.call("users.create", {"role": "applicant", "fields": {}}, actor=actor)
    assert refused.value.status == 403
    with pytest.raises(RpcError) as refused:
        await accounts.call("applicants.import", {}, actor=actor, attachment=b"PK")
    assert refused.value.status == 403


@pytest.mark.parametrize(
    "insider", ["admin_a", "operator_a", "applicant_a", "department", "office", "committee", None]
)
async def test_only_the_sysadmin_manages_reviewer_accounts(world, insider):
    accounts = world["accounts"]
    actor = world[insider] if insider else Actor()
    for method, params in (
        ("reviewers.list", {}),
        ("reviewers.create", {"role": "office", "org_id": "x"}),
    ):
        with pytest.raises(RpcError) as refused:
            await accounts.call(method, params, actor=actor)
        assert refused.value.status == 403


async def test_the_unit_admin_sees_and_manages_its_own_people(world):
    accounts, admin = world["accounts"], world["admin_a"]
    listed = await accounts.call("users.list", {"role": "applicant"}, actor=admin)
    assert [item["id"] for item in listed["items"]] == [world["applicant_id"]]
    got = await accounts.call(
        "users.get", {"role": "applicant", "user_id": world["applicant_id"]}, actor=admin
    )
    assert got["name"] == "李四"


REVIEWER_METHODS = {m: f for m, f in USER_METHODS.items() if m != "users.update"}


@pytest.mark.parametrize("method", sorted(REVIEWER_METHODS))
@pytest.mark.parametrize("role", ["committee", None])
@pytest.mark.parametrize(
    "outsider",
    ["admin_a", "operator_a", "applicant_a", "admin_b", "department", "office", "committee", None],
)
async def test_only_the_sysadmin_disables_or_resets_a_reviewer(world, method, role, outsider):
    accounts = world["accounts"]
    actor = world[outsider] if outsider else Actor()
    params = REVIEWER_METHODS[method]("committee", world["reviewer_id"])
    if role is None:
        del params["role"]
    with pytest.raises(RpcError) as refused:
        await accounts.call(method, params, actor=actor)
    assert refused.value.status in (403, 404)
    assert refused.value.details is None and not refused.value.fields
    row = await accounts.service.pool.fetchrow(
        "SELECT name, active, password_hash FROM users WHERE id = $1",
        uuid.UUID(world["reviewer_id"]),
    )
    assert row["name"] == "周评审" and row["active"]
    assert row["password_hash"] == world["reviewer_hash"]


@pytest.mark.parametrize("method", sorted(USER_METHODS))
@pytest.mark.parametrize("target", ["applicant", "unit_operator"])
@pytest.mark.parametrize("outsider", ["sysadmin", "admin_b"])
async def test_without_a_role_nobody_outside_the_unit_reaches_its_people(
    world, method, target, outsider
):
    """users.* without a role mean "anyone I manage": never another unit's people."""
    accounts = world["accounts"]
    target_id = world["applicant_id" if target == "applicant" else "operator_id"]
    params = USER_METHODS[method](target, target_id)
    if method != "users.update":  # update always names the role
        del params["role"]
    with pytest.raises(RpcError) as refused:
        await accounts.call(method, params, actor=world[outsider])
    assert refused.value.status in (403, 404)
    row = await accounts.service.pool.fetchrow(
        "SELECT name, active FROM users WHERE id = $1", uuid.UUID(target_id)
    )
    assert row["name"] == "李四" and row["active"]


async def test_the_sysadmin_lists_reviewers_by_status_and_never_unit_people(world):
    accounts, sysadmin = world["accounts"], world["sysadmin"]
    listed = await accounts.call("reviewers.list", {"status": "active"}, actor=sysadmin)
    ids = {item["id"] for item in listed["items"]}
    assert world["reviewer_id"] in ids
    assert {item["role"] for item in listed["items"]} <= {"department", "office", "committee"}
    assert world["applicant_id"] not in ids and world["operator_id"] not in ids
    with pytest.raises(RpcError) as refused:
        await accounts.call("users.list", {"role": "applicant"}, actor=sysadmin)
    assert refused.value.status == 403
