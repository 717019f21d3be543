"""What accounts declares about the personal numbers it keeps: its sealed columns, and events
that carry numbers only sealed."""

import pytest
from pydantic import ValidationError

from shared.contracts.accounts.events import ExpertAccountOpened, UserCreated
from shared.personal_data import TRANSIT, PersonalDataSettings, keyring_from
from tools.personal_data import sealed_columns


def test_accounts_lists_its_sealed_columns_for_the_rotate_tool():
    columns = {(c.table, c.column): c for c in sealed_columns("accounts")}
    assert set(columns) == {
        ("users", "id_number"),
        ("users", "mobile"),
        ("sms_codes", "mobile"),
        ("si_enrolments", "id_number"),
    }
    for (table, column), sealed in columns.items():
        assert sealed.label == f"accounts.{table}.{column}"
        assert (sealed.index_column, sealed.kind) == (f"{column}_index", column)


def test_accounts_events_refuse_a_number_in_the_clear():
    with pytest.raises(ValidationError):
        UserCreated(user_id="u", unit_id="n", role="applicant", name="张三", id_number="1" * 18)
    opened = {"user_id": "u", "username": "zj00000001", "name": "李四"}
    with pytest.raises(ValidationError):
        ExpertAccountOpened(**opened, mobile="13800000001")
    ring = keyring_from(PersonalDataSettings())
    assert ExpertAccountOpened(**opened, mobile=ring.seal("13800000001", TRANSIT))
