"""A block of a list's rows as the sheet's XML (shared/exports.py): the rows come as the
lines of PostgreSQL's COPY text, each field either cells of the sheet the database made
(`cells_sql`) or a sealed number. The service splits a block into its fields; its worker
process opens the numbers, masks them for a reader who may not see them in full and makes
them into cells (AES-GCM, about 1.5 us a number, does not run without the GIL); the service
puts those in their places and joins each line into a <row>. This module imports little, so
that the worker starts quickly."""

import re
from dataclasses import dataclass
from typing import Literal

from shared.masks import mask_id_number, mask_mobile
from shared.personal_data import keyring
from shared.xlsx import CONTROL_BYTES, column_cells

MASKS = {"id_number": mask_id_number, "mobile": mask_mobile}

# COPY's text format: a line a row, its fields split by tabs; a backslash, and a tab, newline,
# carriage return, backspace, form feed or vertical tab in a value, come escaped
_COPY_ESCAPES = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
_COPY_ESCAPED = re.compile(rb"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class Sealed:
    """A column of sealed numbers: the label they were sealed with, and the mask they are
    shown with (None: in full)."""

    label: str
    mask: Literal["id_number", "mobile"] | None = None


def copy_fields(block: bytes, width: int) -> list[bytes]:
    """The fields of a block of COPY text lines (the last without its newline), row after
    row: split in C. A field that holds an escape (rare: a reason typed over several lines)
    is unescaped by itself."""
    fields = block.replace(b"\n", b"\t").split(b"\t")
    if len(fields) % width:
        raise ValueError(f"{len(fields)} fields in a block of rows {width} fields wide")
    if b"\\" in block:
        fields = [_unescape(field) if b"\\" in field else field for field in fields]
    return fields


def _unescape(field: bytes) -> bytes:
    return _COPY_ESCAPED.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), field)


def open_columns(tokens: dict[int, list[bytes]], sealed: dict[int, Sealed]) -> dict[int, list]:
    """Columns of sealed numbers (by position) opened and masked as `sealed` says, as the
    sheet's cells: what the worker process does. Only the numbers travel to it and back."""
    ring = keyring()
    opened = {}
    for index, values in tokens.items():
        how = sealed[index]
        plain = ring.open_all(values, how.label)
        if how.mask is not None:
            plain = [MASKS[how.mask](value) for value in plain]
        opened[index] = column_cells("label", plain)
    return opened


def joined_rows(fields: list[bytes], width: int, cells: dict[int, list[bytes]]) -> bytes:
    """The fields of a block's lines as the sheet's rows: each is cells as it is (the
    first opens the <row>, the last closes it) but for the numbers' cells, put in their
    places by slice: no call or format a row. The control characters XML forbids are left
    out in one pass."""
    for index, column in cells.items():
        fields[index::width] = column
    return b"".join(fields).translate(None, CONTROL_BYTES)


def lines_xml(block: bytes, width: int, sealed: dict[int, Sealed]) -> bytes:
    """A block of COPY lines, `width` fields each, as the sheet's rows, in one process."""
    fields = copy_fields(block, width)
    tokens = {index: fields[index::width] for index in sealed}
    return joined_rows(fields, width, open_columns(tokens, sealed))
