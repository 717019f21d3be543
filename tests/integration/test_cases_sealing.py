"""Migration 010 seals the ID numbers and mobiles the cases schema held in the clear, with
their blind indexes; a 失信 check and an expert account find them by those afterwards."""

import json
import uuid
from datetime import date, datetime, timedelta

import asyncpg
import pytest

from services.cases import sealed
from shared.migrations import migrate, migration_files
from shared.personal_data import is_sealed, keyring
from tests.support.plain_numbers import plain_numbers

ID_NUMBER = "44030119900101123X"
MOBILE = "13812345678"
NOW = datetime(2026, 3, 1, 9, 0).astimezone()


@pytest.fixture
async def scratch(settings):
    schema = f"cases_seal_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(settings.database_url)
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    yield conn, schema
    await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await conn.close()


def _until(name: str) -> list:
    return [f for f in migration_files("cases") if f[0].split("/")[1] < name or "shared/" in f[0]]


async def _plain_rows(conn) -> None:
    await conn.execute(
        "INSERT INTO series VALUES ('s', '系列', 0); INSERT INTO departments VALUES ('d', '部门');"
        "INSERT INTO committees VALUES ('c', '评委会', 'd', true);"
        "INSERT INTO rounds (id, name, opens_on, closes_on) VALUES ('r', '2026', '2026-01-01',"
        " '2026-12-31'); INSERT INTO qualifications VALUES ('q', 's', '工程师', '中级', 0);"
        "INSERT INTO review_types (id, name) VALUES ('t', '正常申报')"
    )
    await conn.execute(
        "INSERT INTO experts (id, committee_id, name, id_number, mobile, unit_name, series_id,"
        " speciality, title_level, joined_on, term_ends_on, created_at, updated_at)"
        " VALUES ($1, 'c', '专家', $2, $3, '单位', 's', '专业', '正高', $4, $5, $6, $6)",
        uuid.uuid4(),
        ID_NUMBER,
        MOBILE,
        date(2026, 1, 1),
        date(2028, 1, 1),
        NOW,
    )
    await conn.execute(
        "INSERT INTO expert_accounts (id_number, user_id) VALUES ($1, $2)", ID_NUMBER, uuid.uuid4()
    )
    await conn.execute(
        "INSERT INTO discredits (id, id_number, name, reason, starts_on, years, last_day,"
        " department, recorded_at, recorded_by_name) VALUES ($1, $2, '某人', '造假', $3, 3, $4,"
        " '部门', $5, '管理员')",
        uuid.uuid4(),
        ID_NUMBER,
        date(2026, 1, 1),
        date(2028, 12, 31),
        NOW,
    )


async def test_010_seals_plain_rows_and_fills_the_blind_indexes(scratch):
    conn, schema = scratch
    await migrate(conn, schema, _until("009"))
    await conn.execute(f'SET search_path TO "{schema}"')
    await _plain_rows(conn)
    await conn.execute("RESET search_path")
    assert await plain_numbers(conn, [schema])

    applied = await migrate(conn, schema, migration_files("cases"))
    assert "cases/010_seal_personal_data.py" in applied
    assert await plain_numbers(conn, [schema]) == []

    await conn.execute(f'SET search_path TO "{schema}"')
    expert = await conn.fetchrow("SELECT id_number, mobile, id_number_index FROM experts")
    assert is_sealed(expert["id_number"]) and is_sealed(expert["mobile"])
    assert sealed.unseal(expert["id_number"], sealed.EXPERT_ID_NUMBER) == ID_NUMBER
    assert sealed.unseal(expert["mobile"], sealed.EXPERT_MOBILE) == MOBILE
    assert expert["id_number_index"] == sealed.blind_id(ID_NUMBER)
    assert await conn.fetchval(
        "SELECT count(*) FROM expert_accounts WHERE id_number_index = $1",
        keyring().blind(ID_NUMBER.lower(), "id_number"),
    )
    running = await conn.fetchval(
        "SELECT count(*) FROM discredits WHERE id_number_index = $1 AND last_day > $2",
        sealed.blind_id(ID_NUMBER),
        date(2026, 6, 1) + timedelta(days=1),
    )
    assert running == 1
