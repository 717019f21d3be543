"""An export's rows as PostgreSQL's COPY text (shared/exports.py, `Source.fields`): plain values
framed as cells, keys replaced by their cells, sealed numbers opened in the worker's code,
each line joined into a row (shared/export_render.py). Real COPY output, with the text people
type that COPY escapes or XML cannot hold, read back by openpyxl."""

from datetime import date, datetime

import asyncpg
import openpyxl
import pytest

from shared.export_render import (
    Sealed,
    block_rows,
    copy_fields,
    open_columns,
    sealed_tokens,
    split_block,
)
from shared.exports import Lookup, copy_select
from shared.personal_data import keyring
from shared.xlsx import Column, SheetFile

LABEL = "t.people.id_number"
COLUMNS = [
    Column("姓名"), Column("身份证号"), Column("原因"), Column("日期", "date"), Column("单位"),
]  # fmt: skip
# a unit's cells by its key, as a Lookup makes them: the key as COPY sends it, XML-escaped
UNITS = {b"": b"<c/>", b"u1": b'<c t="inlineStr"><is><t>\xe7\x94\xb2</t></is></c>',
         b"A&amp;B": b'<c t="inlineStr"><is><t>A&amp;B</t></is></c>'}  # fmt: skip
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


async def unit_cells(keys: list[str]) -> dict[str, bytes]:
    return {key: UNITS[key.replace("&", "&amp;").encode()] for key in keys}


FIELDS = [("name", "label"), ("id_number", Sealed(LABEL)), ("reason", "text"), ("day", "date"),
          ("unit", Lookup(unit_cells))]  # fmt: skip
WIDTH = len(FIELDS)


def source_sql() -> str:
    return (
        f"SELECT {copy_select(FIELDS)} FROM unnest($1::text[], $2::text[], $3::text[],"
        " $4::date[], $5::text[]) AS t (name, id_number, reason, day, unit) ORDER BY name"
    )


async def copied(conn, names, numbers, reasons, days, units=None) -> bytes:
    lines = bytearray()

    async def received(data: bytes) -> None:
        lines.extend(data)

    units = units or ["u1"] * len(names)
    args = (names, numbers, reasons, days, units)
    await conn.copy_from_query(source_sql(), *args, output=received, null="")
    return bytes(lines)


def lines_xml(block: bytes, sealed: dict[int, Sealed]) -> bytes:
    """The block as the export's service and worker make it, in one process."""
    fields = split_block(block, WIDTH)
    opened = open_columns(sealed_tokens(fields, WIDTH, sealed), sealed)
    plain = {0: "label", 2: "text", 3: "date"}
    return block_rows(fields, WIDTH, plain, {4: UNITS}, opened)


async def test_typed_text_survives_copy_and_the_sheet(conn, tmp_path):
    ring = keyring()
    names = [f"{n:02d}号" for n in range(len(REASONS))]
    numbers = [f"44030519900101{n:03d}X" for n in range(len(REASONS))]
    sealed = [ring.seal(number, LABEL) for number in numbers[:-1]] + [None]  # one without
    days = [date(2026, 12, n + 1) for n in range(len(REASONS) - 1)] + [None]
    units = ["u1", "A&B", None, "u1", "u1", "u1", "u1"]
    text = await copied(conn, names, sealed, REASONS, days, units)
    assert text.endswith(b"\n") and b"\\" in text  # COPY escaped what it must

    path = tmp_path / "x.xlsx"
    sheet = SheetFile(str(path), "名单", COLUMNS)
    sheet.write_xml(lines_xml(text[:-1], {1: Sealed(LABEL)}), len(REASONS))
    sheet.close()
    read = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))

    assert read[0] == ("姓名", "身份证号", "原因", "日期", "单位")
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
    assert [r[4] for r in read[1:]] == ["甲", "A&B", None, "甲", "甲", "甲", "甲"]


async def test_a_column_without_an_empty_value_is_framed_and_with_one_each_cell(conn):
    """A plain column is framed between its fields, or (where a value is empty) cell by
    cell: the same cells either way."""
    numbers = [keyring().seal("440305199001011234", LABEL)] * 2
    whole = await copied(conn, ["张三", "李四"], numbers, ["甲", "乙"], [date(2026, 1, 5)] * 2)
    gap = await copied(conn, ["张三", "李四"], numbers, ["甲", None], [date(2026, 1, 5), None])
    assert lines_xml(whole[:-1], {1: Sealed(LABEL)}).count(b'<c s="1"><v>46027</v></c>') == 2
    made = lines_xml(gap[:-1], {1: Sealed(LABEL)})
    assert made.count(b'<c s="1"><v>46027</v></c>') == 1
    assert made.count(b"<c/>") == 2 and made.count(b"<row>") == 2


async def test_a_masked_reader_sees_the_mask(conn):
    number = "440305199001011234"
    text = await copied(conn, ["张三"], [keyring().seal(number, LABEL)], ["原因"], [None])
    xml = lines_xml(text[:-1], {1: Sealed(LABEL, "id_number")})
    assert b"440305********1234" in xml and number.encode() not in xml


async def test_a_number_sealed_for_another_column_does_not_open(conn):
    other = keyring().seal("440305199001011234", "t.people.mobile")
    text = await copied(conn, ["张三"], [other], ["原因"], [None])
    with pytest.raises(ValueError, match="does not open"):
        lines_xml(text[:-1], {1: Sealed(LABEL)})


def test_a_block_that_is_not_whole_rows_is_refused():
    with pytest.raises(ValueError, match="3 fields wide"):
        copy_fields(b"a\tb\tc\nd\te", 3)


async def test_the_lines_keep_their_order_across_blocks(conn):
    """Rows split into blocks at line ends (as the export's sink cuts them) come out whole."""
    names = [f"{n:04d}" for n in range(500)]
    text = await copied(conn, names, [None] * 500, ["x"] * 500, [None] * 500)
    blocks, start = [], 0
    while start < len(text):
        end = text.find(b"\n", start + 300)
        end = len(text) - 1 if end < 0 else end
        blocks.append(text[start:end])
        start = end + 1
    assert len(blocks) > 10
    xml = b"".join(lines_xml(block, {1: Sealed(LABEL)}) for block in blocks)
    assert xml.count(b"<row>") == 500
    first_cells = [row.split(b"<t>")[1].split(b"<")[0] for row in xml.split(b"<row>")[1:]]
    assert list(map(int, first_cells)) == list(range(500))
