"""The ID numbers and mobiles the cases service keeps sealed (shared/personal_data.py).

Each column's label is its associated data, so a token is opened with the label of the column
it was read from; a value copied to another column is opened and sealed again. Where a row is
found by an ID number (the expert library, expert accounts, meeting members, 失信 entries)
its blind index sits beside it. `python -m tools.personal_data` reads COLUMNS.
"""

from shared.personal_data import TRANSIT, SealedColumn, keyring


def _column(table: str, column: str, indexed: bool = False, json_key: str | None = None):
    label = ".".join(filter(None, ("cases", table, column, json_key)))
    if not indexed:
        return SealedColumn(table, column, label, json_key=json_key)
    return SealedColumn(table, column, label, index_column=f"{column}_index", kind="id_number")


CASE_MOBILE = _column("cases", "applicant_mobile")
CASE_ID_NUMBER = _column("cases", "applicant_id_number")
SECTION_ID_NUMBER = _column("case_sections", "data", json_key="id_number")
EXPERT_ID_NUMBER = _column("experts", "id_number", indexed=True)
EXPERT_MOBILE = _column("experts", "mobile")
ACCOUNT_ID_NUMBER = _column("expert_accounts", "id_number", indexed=True)
MEMBER_ID_NUMBER = _column("meeting_members", "id_number", indexed=True)
MEMBER_MOBILE = _column("meeting_members", "mobile")
CERTIFICATE_ID_NUMBER = _column("certificates", "id_number")
DISCREDIT_ID_NUMBER = _column("discredits", "id_number", indexed=True)
OBJECTOR_CONTACT = _column("objections", "objector_contact")

COLUMNS = (
    CASE_MOBILE,
    CASE_ID_NUMBER,
    SECTION_ID_NUMBER,
    EXPERT_ID_NUMBER,
    EXPERT_MOBILE,
    ACCOUNT_ID_NUMBER,
    MEMBER_ID_NUMBER,
    MEMBER_MOBILE,
    CERTIFICATE_ID_NUMBER,
    DISCREDIT_ID_NUMBER,
    OBJECTOR_CONTACT,
)


def seal(value: str | None, column: SealedColumn) -> str | None:
    """An empty value stays empty: nothing to hide, and the forms test for it."""
    return keyring().seal(value, column.label) if value else value


def unseal(value: str | None, column: SealedColumn) -> str | None:
    """The plain value; one still plain (written before sealing) is returned as it is."""
    return keyring().open_if_sealed(value, column.label)


def blind_id(id_number: str | None) -> str | None:
    """The blind index of an ID number, as every indexed column above keeps it."""
    return keyring().blind(id_number, "id_number") if id_number else None


def in_transit(value: str | None) -> str | None:
    """A number inside an event the cases service publishes."""
    return None if value is None else keyring().seal(value, TRANSIT)


def sealed_section(section: str, data: dict) -> dict:
    """A materials section as stored: the ID number of 基本信息 sealed."""
    if section != "basic" or not data.get("id_number"):
        return data
    return {**data, "id_number": seal(data["id_number"], SECTION_ID_NUMBER)}


def opened_section(section: str, data: dict) -> dict:
    if section != "basic" or not data.get("id_number"):
        return data
    return {**data, "id_number": unseal(data["id_number"], SECTION_ID_NUMBER)}
