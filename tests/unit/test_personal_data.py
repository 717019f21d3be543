"""Sealing, opening, rotating and blind-indexing personal numbers; the masks."""

import base64
import os

import pytest

from shared.masks import mask_id_number, mask_mobile
from shared.personal_data import (
    DEV_BLIND_INDEX_KEY,
    DEV_DATA_KEYS,
    Keyring,
    PersonalDataError,
    PersonalDataSettings,
    check_production_keys,
    is_sealed,
    key_id_of,
    keyring_from,
    parse_keys,
)


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def ring(keys: str) -> Keyring:
    return keyring_from(PersonalDataSettings(personal_data_keys=keys))


def test_a_sealed_value_opens_to_itself_and_shows_nothing_of_it():
    r = ring(f"k1={new_key()}")
    token = r.seal("44030119900101123X", "accounts.users.id_number")
    assert is_sealed(token) and key_id_of(token) == "k1"
    assert "440301" not in token and "123X" not in token
    assert r.open(token, "accounts.users.id_number") == "44030119900101123X"
    assert r.seal("13800000001", "x") != r.seal("13800000001", "x")  # a fresh nonce each time


def test_a_token_does_not_open_under_another_label_or_when_changed():
    r = ring(f"k1={new_key()}")
    token = r.seal("13800000001", "accounts.users.mobile")
    with pytest.raises(PersonalDataError):
        r.open(token, "cases.experts.mobile")
    changed = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(PersonalDataError):
        r.open(changed, "accounts.users.mobile")
    with pytest.raises(PersonalDataError):
        r.open("13800000001", "accounts.users.mobile")


def test_rotation_opens_old_tokens_and_reseals_them_under_the_new_key():
    old, new = new_key(), new_key()
    before = ring(f"k1={old}")
    token = before.seal("13800000001", "l")
    after = ring(f"k2={new},k1={old}")
    assert after.open(token, "l") == "13800000001"
    moved = after.reseal(token, "l")
    assert key_id_of(moved) == "k2" and after.open(moved, "l") == "13800000001"
    assert after.reseal(moved, "l") == moved
    with pytest.raises(PersonalDataError, match="not in the keyring"):
        ring(f"k2={new}").open(token, "l")


def test_a_column_opens_whole_under_one_key_and_value_by_value_otherwise():
    """An export's column of tokens (bytes of COPY text): all under the current key, opened
    in one pass; mixed with an old key's, plain or empty values, each as open_if_sealed."""
    old, new = new_key(), new_key()
    before, after = ring(f"k1={old}"), ring(f"k2={new},k1={old}")
    numbers = [f"4403011990010112{n:02d}" for n in range(20)]
    current = [after.seal(n, "l").encode() for n in numbers]
    assert after.open_all(current, "l") == numbers
    mixed = [before.seal(numbers[0], "l").encode(), *current[1:3], b"", b"13800000001"]
    assert after.open_all(mixed, "l") == [*numbers[:3], None, "13800000001"]
    assert after.open_all([], "l") == []
    for column in (current, mixed):
        with pytest.raises(PersonalDataError, match="does not open"):
            after.open_all(column, "another.label")
    changed = [*current[:5], current[5][:-2] + (b"AA" if current[5][-2:] != b"AA" else b"BB")]
    with pytest.raises(PersonalDataError, match="does not open"):
        after.open_all(changed, "l")
    with pytest.raises(PersonalDataError, match="not in the keyring"):
        ring(f"k2={new}").open_all(mixed, "l")


def test_the_blind_index_is_keyed_and_stable():
    r = ring(f"k1={new_key()}")
    assert r.blind("44030119900101123x", "id_number") == r.blind(" 44030119900101123X", "id_number")
    assert r.blind("13800000001", "mobile") != r.blind("13800000001", "id_number")
    other = keyring_from(PersonalDataSettings(blind_index_key=new_key()))
    assert other.blind("13800000001", "mobile") != r.blind("13800000001", "mobile")


@pytest.mark.parametrize(
    "keys, message",
    [
        ("", "no personal data key"),
        ("k1", "id=base64url"),
        ("k1=abcd", "bytes, a key is 32"),
        (f"k1={new_key()},k1={new_key()}", "listed twice"),
    ],
    ids=["empty", "no key", "short key", "twice"],  # the same ids in every xdist worker
)
def test_a_bad_keyring_setting_is_refused_with_its_reason(keys, message):
    with pytest.raises(PersonalDataError, match=message):
        parse_keys(keys)


def test_production_refuses_the_development_keys():
    check_production_keys(PersonalDataSettings(production=False))
    with pytest.raises(PersonalDataError, match="ZC_PERSONAL_DATA_KEYS"):
        check_production_keys(PersonalDataSettings(production=True, blind_index_key=new_key()))
    renamed = DEV_DATA_KEYS.replace("dev1=", "mine=")  # the same key under another id
    with pytest.raises(PersonalDataError, match="ZC_PERSONAL_DATA_KEYS"):
        check_production_keys(
            PersonalDataSettings(
                production=True,
                personal_data_keys=f"p1={new_key()},{renamed}",
                blind_index_key=new_key(),
            )
        )
    with pytest.raises(PersonalDataError, match="ZC_BLIND_INDEX_KEY"):
        check_production_keys(
            PersonalDataSettings(production=True, personal_data_keys=f"p1={new_key()}")
        )
    check_production_keys(
        PersonalDataSettings(
            production=True, personal_data_keys=f"p1={new_key()}", blind_index_key=new_key()
        )
    )
    assert DEV_DATA_KEYS and DEV_BLIND_INDEX_KEY


def test_masks():
    assert mask_id_number("44030119900101123X") == "440301********123X"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile(None) is None and mask_id_number("") == ""
    assert mask_mobile("12345") == "*****"
