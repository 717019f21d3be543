"""Sealing plain values in a table, re-sealing after a key rotation, and the command that does
it, against real PostgreSQL (a schema of this test's own)."""

import base64
import json
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from shared.personal_data import (
    PersonalDataSettings,
    SealedColumn,
    count_by_key,
    is_sealed,
    key_id_of,
    keyring_from,
    reseal,
    seal_plain,
)

PEOPLE = SealedColumn(
    "people", "mobile", "t.people.mobile", index_column="mobile_index", kind="mobile"
)
FORMS = SealedColumn("forms", "data", "t.forms.data.id_number", json_key="id_number")


def key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
async def conn(settings):
    schema = f"pdtest_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(settings.database_url)
    await conn.execute(f"CREATE SCHEMA {schema}; SET search_path TO {schema}")
    await conn.execute(
        "CREATE TABLE people (id int PRIMARY KEY, mobile text, mobile_index text);"
        "CREATE TABLE forms (id int PRIMARY KEY, data jsonb NOT NULL)"
    )
    yield conn
    await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await conn.close()


async def test_plain_values_are_sealed_in_place_with_their_blind_index(conn):
    ring = keyring_from(PersonalDataSettings(personal_data_keys=f"k1={key()}"))
    await conn.executemany(
        "INSERT INTO people (id, mobile) VALUES ($1, $2)",
        [(i, f"1380000{i:04d}") for i in range(2500)] + [(9999, None)],
    )
    await conn.execute(
        'INSERT INTO forms VALUES (1, $1), (2, \'{"name": "无号"}\')',
        json.dumps({"name": "张三", "id_number": "44030119900101123X"}),
    )
    assert await count_by_key(conn, PEOPLE) == {"plain": 2500}

    assert await seal_plain(conn, ring, PEOPLE, batch=1000) == 2500
    assert await seal_plain(conn, ring, FORMS) == 1
    assert await seal_plain(conn, ring, PEOPLE) == 0  # a second run finds nothing to do

    row = await conn.fetchrow("SELECT mobile, mobile_index FROM people WHERE id = 7")
    assert is_sealed(row["mobile"]) and ring.open(row["mobile"], PEOPLE.label) == "13800000007"
    assert row["mobile_index"] == ring.blind("13800000007", "mobile")
    data = json.loads(await conn.fetchval("SELECT data FROM forms WHERE id = 1"))
    assert (
        data["name"] == "张三" and ring.open(data["id_number"], FORMS.label) == "44030119900101123X"
    )
    assert await conn.fetchval("SELECT mobile FROM people WHERE id = 9999") is None


async def test_rotation_reseals_every_value_under_the_new_key(conn):
    old, new = key(), key()
    before = keyring_from(PersonalDataSettings(personal_data_keys=f"k1={old}"))
    await conn.executemany(
        "INSERT INTO people (id, mobile) VALUES ($1, $2)",
        [(i, before.seal(f"1390000{i:04d}", PEOPLE.label)) for i in range(30)],
    )
    after = keyring_from(PersonalDataSettings(personal_data_keys=f"k2={new},k1={old}"))
    assert await reseal(conn, after, PEOPLE, batch=7) == 30
    assert await count_by_key(conn, PEOPLE) == {"k2": 30}
    only_new = keyring_from(PersonalDataSettings(personal_data_keys=f"k2={new}"))
    token = await conn.fetchval("SELECT mobile FROM people WHERE id = 3")
    assert key_id_of(token) == "k2" and only_new.open(token, PEOPLE.label) == "13900000003"


def test_the_command_reports_every_service_and_refuses_a_bad_key(settings):
    env = {**os.environ, "ZC_DATABASE_URL": settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "tools.personal_data", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "tools.personal_data", "rotate"],
        env={**env, "ZC_PERSONAL_DATA_KEYS": "k1=abcd"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "3 bytes, a key is 32" in bad.stderr
    assert "Traceback" not in bad.stderr
