"""Finds personal numbers stored in the clear: every text and json column of every table.

A mainland ID number (18 characters, a plausible birth date, the GB 11643 check character)
or a mobile (11 digits from 13–19) standing alone. Binary
columns (scans, PDFs) are not read: their bytes are not text, and the PDFs that must show a
full number (the 评审（申报）表) are served only to those who may print the case.
"""

import re

import asyncpg

# Standing alone: not inside a longer run of digits, nor of letters and digits (a hash's hex,
# a sealed token's base64). Chinese text around a number does not hide it.
MOBILE = r"(^|[^0-9A-Za-z])(1[3-9][0-9]{9})($|[^0-9A-Za-z])"
ID_NUMBER = (
    r"(^|[^0-9A-Za-z])([1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9Xx])($|[^0-9A-Za-z])"
)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def is_id_number(text: str) -> bool:
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", text):
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == text[17].upper()


async def plain_numbers(conn: asyncpg.Connection, schemas: list[str]) -> list[str]:
    """'schema.table.column: value' for every plain number found (a few per column)."""
    columns = await conn.fetch(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        " JOIN information_schema.tables USING (table_schema, table_name)"
        " WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'"
        " AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')"
        " ORDER BY 1, 2, 3",
        schemas,
    )
    found = []
    for c in columns:
        where = f'"{c["table_schema"]}"."{c["table_name"]}"'
        value = f'"{c["column_name"]}"::text'
        for pattern, check in ((MOBILE, None), (ID_NUMBER, is_id_number)):
            rows = await conn.fetch(
                f"SELECT (regexp_match({value}, $1))[2] AS hit FROM {where}"
                f" WHERE {value} ~ $1 LIMIT 50",
                pattern,
            )
            hits = {r["hit"] for r in rows if check is None or check(r["hit"])}
            found += [f"{where}.{c['column_name']}: {hit}" for hit in sorted(hits)[:3]]
    return found
