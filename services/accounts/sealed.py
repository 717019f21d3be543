"""The columns of the accounts schema that hold sealed personal numbers, for
`python -m tools.personal_data` (status, rotate) and the migration that sealed them."""

from services.accounts.personal import label
from shared.personal_data import SealedColumn


def _column(table: str, column: str, kind: str) -> SealedColumn:
    return SealedColumn(table, column, label(table, column), None, f"{column}_index", kind)


COLUMNS = [
    _column("users", "id_number", "id_number"),
    _column("users", "mobile", "mobile"),
    _column("sms_codes", "mobile", "mobile"),
    _column("si_enrolments", "id_number", "id_number"),
]
