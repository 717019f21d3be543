"""notify's mobiles: opened from transit (plain ones of older messages taken), sealed per
column, and masked where a provider's message quotes one."""

import pytest

from services.notify.provider_adapter import Redactor
from services.notify.sealed import DELIVERY_MOBILE, SEND_MOBILE, opened, received, sealed
from shared.personal_data import TRANSIT, PersonalDataError, keyring


def test_a_mobile_in_transit_is_opened_and_a_plain_one_taken_as_it_is():
    assert received(keyring().seal("13812345678", TRANSIT)) == "13812345678"
    assert received("13812345678") == "13812345678"
    assert received(None) is None


def test_a_stored_mobile_opens_only_in_its_own_column():
    token = sealed("13812345678", DELIVERY_MOBILE)
    assert token.startswith("pd1.") and "13812345678" not in token
    assert opened(token, DELIVERY_MOBILE) == "13812345678"
    with pytest.raises(PersonalDataError):
        opened(token, SEND_MOBILE)
    with pytest.raises(PersonalDataError):
        received(token)  # not a transit value either


def test_a_mobile_a_provider_quotes_is_masked():
    text = Redactor.text("InvalidParameter: PhoneNumber +8613812345678 is wrong (code 20231)")
    assert "13812345678" not in text and "138****5678" in text
