"""ID numbers and mobiles at rest in accounts: sealed, found by their blind index, masked in
answers, shown in full only through personal.unmask, which is audited either way."""

import uuid

import asyncpg
import pytest

from services.accounts.personal import index, unseal
from shared.masks import mask_id_number, mask_mobile
from shared.migrations import migrate, migration_files
from shared.personal_data import TRANSIT, is_sealed, keyring
from shared.rpc import Actor, RpcError
from tests.support.accounts_driver import id_number, mobile, si_number


async def columns_holding(conn, schema: str, value: str) -> list[str]:
    """Every text or jsonb column of the schema's tables in which `value` appears."""
    columns = await conn.fetch(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'"
        " AND c.data_type IN ('text', 'jsonb', 'character varying')",
        schema,
    )
    found = []
    for c in columns:
        where = f'{schema}."{c["table_name"]}"'
        hits = await conn.fetchval(
            f'SELECT count(*) FROM {where} WHERE "{c["column_name"]}"::text LIKE $1',
            f"%{value}%",
        )
        if hits:
            found.append(f"{c['table_name']}.{c['column_name']}")
    return found


async def test_no_id_number_or_mobile_is_stored_in_the_clear(accounts):
    form, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    operator = await accounts.new_person(admin, role="unit_operator")
    new_mobile = mobile()
    fields = {"name": "李四", "mobile": new_mobile, "email": "", "id_number": ""}
    ref = {"role": "unit_operator", "user_id": operator["id"]}
    await accounts.call("users.update", {**ref, "fields": fields}, actor=admin)
    known = [form["admin_id_number"], form["mobile"], person["id_number"], person["mobile"]]
    known.append(new_mobile)
    async with accounts.service.pool.acquire() as conn:
        for value in known:
            assert await columns_holding(conn, "accounts", value) == [], value


async def test_the_numbers_are_sealed_under_their_column_and_indexed(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    row = await accounts.service.pool.fetchrow(
        "SELECT * FROM users WHERE id = $1", uuid.UUID(person["id"])
    )
    assert is_sealed(row["id_number"]) and is_sealed(row["mobile"])
    assert unseal(row["id_number"], "users", "id_number") == person["id_number"]
    assert row["mobile_index"] == index(person["mobile"], "mobile")
    with pytest.raises(ValueError):  # a token opens only in its own column
        unseal(row["id_number"], "users", "mobile")


async def test_lists_and_managers_see_masks_and_the_person_sees_their_own(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    page = await accounts.call("users.list", {"role": "applicant"}, actor=admin)
    shown = page["items"][0]
    assert shown["id_number"] == mask_id_number(person["id_number"])
    assert shown["mobile"] == mask_mobile(person["mobile"])
    got = await accounts.call("users.get", {"role": "applicant", "user_id": person["id"]}, admin)
    assert got["mobile"] == mask_mobile(person["mobile"])
    themself = await accounts.actor(person["username"])
    me = await accounts.call("users.me", actor=themself)
    assert (me["id_number"], me["mobile"]) == (person["id_number"], person["mobile"])


async def test_a_person_is_found_by_their_whole_number_only(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    for q, found in ((person["id_number"], 1), (person["mobile"], 1), (person["mobile"][:7], 0)):
        page = await accounts.call("users.list", {"role": "applicant", "q": q}, actor=admin)
        assert page["total"] == found, q


async def test_an_edit_sent_back_with_the_masks_keeps_the_stored_numbers(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    ref = {"role": "applicant", "user_id": person["id"]}
    shown = await accounts.call("users.get", ref, actor=admin)
    fields = {k: shown[k] or "" for k in ("name", "id_number", "gender", "mobile", "email")}
    fields["name"] = "李五"
    await accounts.call("users.update", {**ref, "fields": fields}, admin)
    await accounts.call("users.update", {**ref, "fields": {**fields, "mobile": ""}}, admin)
    themself = await accounts.actor(person["username"])
    me = await accounts.call("users.me", actor=themself)
    assert (me["name"], me["id_number"], me["mobile"]) == (
        "李五",
        person["id_number"],
        person["mobile"],
    )


async def test_an_id_number_taken_by_a_sealed_account_is_refused_at_registration(accounts):
    form, _ = await accounts.new_unit_admin()
    with pytest.raises(RpcError) as refused:
        await accounts.register(admin_id_number=form["admin_id_number"])
    assert refused.value.fields["admin_id_number"] == "该身份证号已有账户"


async def audit_rows(accounts, object_id: str) -> list:
    return await accounts.service.pool.fetch(
        "SELECT actor_id, outcome, code, details FROM audit_log"
        " WHERE action = 'personal.unmask' AND object_id = $1 ORDER BY seq",
        object_id,
    )


async def unmask(accounts, actor: Actor, object_id: str, field: str, object_type="user"):
    wanted = {"object_type": object_type, "object_id": object_id, "field": field}
    return await accounts.call("personal.unmask", wanted, actor=actor)


async def test_a_unit_admin_unmasks_their_own_peoples_numbers_and_it_is_audited(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    assert (await unmask(accounts, admin, person["id"], "mobile"))["value"] == person["mobile"]
    shown = await unmask(accounts, admin, person["id"], "id_number")
    assert shown["value"] == person["id_number"]
    rows = await audit_rows(accounts, person["id"])
    assert [(r["outcome"], r["actor_id"]) for r in rows] == [("ok", admin.user_id)] * 2
    assert [r["details"] for r in rows] == [{"field": "mobile"}, {"field": "id_number"}]


async def test_another_units_admin_and_an_operator_are_refused_and_it_is_audited(accounts):
    _, admin = await accounts.new_unit_admin()
    _, stranger = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    operator = await accounts.new_person(admin, role="unit_operator")
    for actor in (stranger, await accounts.actor(operator["username"])):
        with pytest.raises(RpcError) as refused:
            await unmask(accounts, actor, person["id"], "id_number")
        assert refused.value.status == 403
    rows = await audit_rows(accounts, person["id"])
    assert [(r["outcome"], r["code"]) for r in rows] == [("refused", "forbidden")] * 2


async def test_a_person_unmasks_their_own_mobile(accounts):
    _, admin = await accounts.new_unit_admin()
    person = await accounts.new_person(admin)
    themself = await accounts.actor(person["username"])
    assert (await unmask(accounts, themself, person["id"], "mobile"))["value"] == person["mobile"]


async def test_the_sysadmin_unmasks_an_enrolment(accounts):
    number, si_unit_no = id_number(), si_number()
    await accounts.enrol("赵六", number, si_unit_no, si_number())
    enrolment_id = await accounts.service.pool.fetchval(
        "SELECT id FROM si_enrolments WHERE id_number_index = $1 AND si_unit_no = $2",
        index(number, "id_number"),
        si_unit_no,
    )
    sysadmin = Actor(user_id=uuid.uuid4(), role="sysadmin")
    shown = await unmask(accounts, sysadmin, str(enrolment_id), "id_number", "enrolment")
    assert shown["value"] == number


# --- the migration that sealed what was there --------------------------------------------


async def test_the_migration_seals_the_numbers_stored_before_it(own_settings):
    schema = f"acc_seal_{uuid.uuid4().hex[:8]}"
    files = migration_files("accounts")
    # what a database held before: the numbers' migrations (accounts' and the outbox's) not yet run
    sealing = (
        "accounts/008" <= name < "accounts/999" or name >= "shared/0004" for name, _ in files
    )
    before = [f for f, later in zip(files, sealing, strict=True) if not later]
    conn = await asyncpg.connect(own_settings.database_url)
    try:
        await migrate(conn, schema, before)
        number, phone = id_number(), mobile()
        await _plain_rows(conn, schema, number, phone)
        await migrate(conn, schema, files)
        await _check_sealed(conn, schema, number, phone)
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def _plain_rows(conn, schema: str, number: str, phone: str) -> None:
    await conn.execute(
        f"INSERT INTO {schema}.users (id, username, password_hash, role, name, id_number, mobile)"
        " VALUES ($1, 'plainone', 'x', 'sysadmin', '旧账户', $2, $3)",
        uuid.uuid4(),
        number,
        phone,
    )
    await conn.execute(
        f"INSERT INTO {schema}.sms_codes (id, mobile, purpose, code_hash, status, created_at,"
        " expires_at) VALUES ($1, $2, 'register', 'h', 'live', now(), now())",
        uuid.uuid4(),
        phone,
    )
    await conn.execute(
        f"INSERT INTO {schema}.si_enrolments (id_number, si_unit_no, si_no, unit_name,"
        " person_name) VALUES ($1, '123', '456', '单位', '旧人')",
        number,
    )
    envelope = f'{{"type": "accounts.user.created", "payload": {{"id_number": "{number}"}}}}'
    await conn.execute(
        f"INSERT INTO {schema}.outbox (id, routing_key, envelope)"
        " VALUES ($1, 'accounts.user.created', $2::jsonb)",
        uuid.uuid4(),
        envelope,
    )


async def _check_sealed(conn, schema: str, number: str, phone: str) -> None:
    assert await columns_holding(conn, schema, number) == []
    assert await columns_holding(conn, schema, phone) == []
    user = await conn.fetchrow(f"SELECT * FROM {schema}.users")
    assert unseal(user["id_number"], "users", "id_number") == number
    assert user["id_number_index"] == index(number, "id_number")
    code = await conn.fetchrow(f"SELECT * FROM {schema}.sms_codes")
    assert unseal(code["mobile"], "sms_codes", "mobile") == phone
    assert code["mobile_index"] == index(phone, "mobile")
    enrolled = await conn.fetchrow(f"SELECT * FROM {schema}.si_enrolments")
    assert unseal(enrolled["id_number"], "si_enrolments", "id_number") == number
    sealed = await conn.fetchval(
        f"SELECT envelope -> 'payload' ->> 'id_number' FROM {schema}.outbox"
    )
    assert keyring().open(sealed, TRANSIT) == number
