"""ID numbers and mobiles at rest in accounts: each sealed in its own column, found by the
blind index kept beside it (shared/personal_data.py). Values leave this service masked,
unless the reader may see them in full (views.py, handlers/unmask.py), and inside events
sealed for transit."""

from shared.personal_data import TRANSIT, keyring

# The users columns that hold personal numbers, and what their blind index indexes.
USER_FIELDS = ("id_number", "mobile")


def label(table: str, column: str) -> str:
    return f"accounts.{table}.{column}"


def seal(value: str | None, table: str, column: str) -> str | None:
    return keyring().seal(value, label(table, column))


def unseal(token: str | None, table: str, column: str) -> str | None:
    return keyring().open(token, label(table, column))


def index(value: str | None, kind: str) -> str | None:
    return keyring().blind(value, kind)


def sealed_user(values: dict) -> dict:
    """The users columns for a person's ID number and mobile: sealed, with their indexes."""
    columns = {}
    for field in USER_FIELDS:
        columns[field] = seal(values.get(field), "users", field)
        columns[f"{field}_index"] = index(values.get(field), field)
    return columns


def opened_user(row) -> dict:
    """A users row with its ID number and mobile opened."""
    person = dict(row)
    for field in USER_FIELDS:
        if field in person:
            person[field] = unseal(person[field], "users", field)
    return person


def for_transit(value: str | None) -> str | None:
    return keyring().seal(value, TRANSIT)


def from_transit(value: str | None) -> str | None:
    """A number from another service's event: sealed for transit, or plain from one that
    does not seal yet."""
    return keyring().open_if_sealed(value, TRANSIT)
