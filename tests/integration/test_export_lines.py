"""An export's rows as PostgreSQL's COPY text (shared/exports.py, `Source.copy`): cells made by
the database (`cells_sql`), sealed numbers opened in the worker's code, each line joined into a
row (shared/export_render.py). Real COPY output, with the text people type that COPY escapes
or XML cannot hold, read back by openpyxl."""

from datetime import date, datetime

import asyncpg
import openpyxl
import pytest

from shared.export_render import Sealed, copy_fields, lines_xml
from shared.exports import cells_sql, copy_row_sql
from shared.personal_data import keyring
from shared.xlsx import Column, SheetFile

LABEL = "t.people.id_number"
COLUMNS = [Column("姓名"), Column("身份证号"), Column("原因"), Column("日期", "date")]
REASONS = [
    "材料不全\n请补交\t学历证书",  # a newline and a tab: escaped by COPY
    "路径 C:\\材料\\证书",  # backslashes: escaped by COPY
    "A & B <C> \"D\" 'E'",  # XML's own
    "回车\r换行",  # a carriage return, which the sheet leaves out
    "控制\x01字符\x1f",  # control characters XML 1.0 cannot hold
    "\\N",  # COPY's own NULL marker, typed
    "",
]


@pytest.fixture
async def conn(settings):
    conn = await asyncpg.connect(settings.database_url)
    yield conn
    await conn.close()


def source_sql() -> str:
    fields = copy_row_sql(
        cells_sql(("name", "label")),
        "id_number",
        cells_sql(("reason", "text"), ("day", "date")),
    )
    return f"SELECT {fields} FROM unnest($1::text[], $2::text[], $3::text[], $4::date[])" \
        " AS t (name, id_number, reason, day) ORDER BY name"  # fmt: skip


async def copied(conn, *columns) -> bytes:
    lines = bytearray()

    async def received(data: bytes) -> None:
        lines.extend(data)

    await conn.copy_from_query(source_sql(), *columns, output=received, null="")
    return bytes(lines)


async def test_typed_text_survives_copy_and_the_sheet(conn, tmp_path):
    ring = keyring()
    names = [f"{n:02d}号" for n in range(len(REASONS))]
    numbers = [f"44030519900101{n:03d}X" for n in range(len(REASONS))]
    sealed = [ring.seal(number, LABEL) for number in numbers[:-1]] + [None]  # one without
    days = [date(2026, 12, n + 1) for n in range(len(REASONS) - 1)] + [None]
    text = await copied(conn, names, sealed, REASONS, days)
    assert text.endswith(b"\n") and b"\\" in text  # COPY escaped what it must

    path = tmp_path / "x.xlsx"
    sheet = SheetFile(str(path), "名单", COLUMNS, ("cells", "cells", "cells"))
    sheet.write_xml(lines_xml(text[:-1], 3, {1: Sealed(LABEL)}), len(REASONS))
    sheet.close()
    read = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))

    assert read[0] == ("姓名", "身份证号", "原因", "日期")
    expected_reasons = [
        "材料不全\n请补交\t学历证书",
        "路径 C:\\材料\\证书",
        "A & B <C> \"D\" 'E'",
        "回车换行",
        "控制字符",
        "\\N",
        None,
    ]
    assert [r[0] for r in read[1:]] == names
    assert [r[1] for r in read[1:]] == numbers[:-1] + [None]
    assert [r[2] for r in read[1:]] == expected_reasons
    assert [r[3] for r in read[1:]] == [
        datetime.combine(d, datetime.min.time()) if d else None for d in days
    ]


async def test_a_masked_reader_sees_the_mask(conn):
    number = "440305199001011234"
    text = await copied(conn, ["张三"], [keyring().seal(number, LABEL)], ["原因"], [None])
    xml = lines_xml(text[:-1], 3, {1: Sealed(LABEL, "id_number")})
    assert b"440305********1234" in xml and number.encode() not in xml


async def test_a_number_sealed_for_another_column_does_not_open(conn):
    other = keyring().seal("440305199001011234", "t.people.mobile")
    text = await copied(conn, ["张三"], [other], ["原因"], [None])
    with pytest.raises(ValueError, match="does not open"):
        lines_xml(text[:-1], 3, {1: Sealed(LABEL)})


def test_a_block_that_is_not_whole_rows_is_refused():
    with pytest.raises(ValueError, match="3 fields wide"):
        copy_fields(b"a\tb\tc\nd\te", 3)


async def test_the_lines_keep_their_order_across_blocks(conn):
    """Rows split into blocks at line ends (as the export's sink cuts them) come out whole."""
    names = [f"{n:04d}" for n in range(500)]
    text = await copied(conn, names, [None] * 500, ["x"] * 500, [None] * 500)
    blocks, start = [], 0
    while start < len(text):
        end = text.find(b"\n", start + 700)
        end = len(text) - 1 if end < 0 else end
        blocks.append(text[start:end])
        start = end + 1
    assert len(blocks) > 10
    xml = b"".join(lines_xml(block, 3, {1: Sealed(LABEL)}) for block in blocks)
    assert xml.count(b"<row>") == 500
    assert [int(x.split(b"<")[0]) for x in xml.split(b"<t>")[1:]] == list(range(500))
