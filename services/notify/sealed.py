"""Notify's personal numbers: the mobiles it keeps sealed at rest, and how it opens them.

Every mobile notify stores is sealed under its column's label; the events and messages it
consumes carry them sealed with TRANSIT (a message written before the upgrade: plain).
Lists and logs show them masked (shared/masks.py). docs/personal-data.md.
"""

from shared.personal_data import TRANSIT, SealedColumn, is_sealed, keyring

DELIVERY_MOBILE = SealedColumn("deliveries", "mobile", "notify.deliveries.mobile")
SEND_MOBILE = SealedColumn("provider_sends", "mobile", "notify.provider_sends.mobile")

COLUMNS = (DELIVERY_MOBILE, SEND_MOBILE)


def received(value: str | None) -> str | None:
    """A mobile as an event or a message carried it: sealed in transit, or plain when it was
    written before its producer sealed personal numbers."""
    if not is_sealed(value):
        return value
    return keyring().open(value, TRANSIT)


def in_transit(value: str | None) -> str | None:
    return keyring().seal(value, TRANSIT)


def sealed(value: str | None, column: SealedColumn) -> str | None:
    return keyring().seal(value, column.label)


def opened(token: str | None, column: SealedColumn) -> str | None:
    return keyring().open(token, column.label)
