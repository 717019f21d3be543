"""A block of a list's rows as the sheet's XML (shared/exports.py): the rows come as the
lines of PostgreSQL's COPY text, each field a plain value (a text, a number, a date or a
moment as Excel's day number), a key looked up (a unit's id: its name's cell, made once for
the export) or a sealed number. The service splits a block into its fields (`split_block`);
its worker process opens the numbers, masks them for a reader who may not see them in full
and makes them into cells (`open_columns`: AES-GCM, about 1.5 us a number, does not run
without the GIL); the service puts the keys' and the numbers' cells in their places and
joins each line into a <row> (`block_rows`). Nothing in Python runs a row: a column is
one slice, a row's markup lies between its fields. This module imports little, so that the
worker starts quickly."""

import re
from dataclasses import dataclass
from typing import Literal

from shared.masks import mask_id_number, mask_mobile
from shared.personal_data import keyring
from shared.xlsx import CELLS, CONTROL_BYTES, EMPTY, Kind, column_cells

MASKS = {"id_number": mask_id_number, "mobile": mask_mobile}

# COPY's text format: a line a row, its fields split by tabs; a backslash, and a tab, newline,
# carriage return, backspace, form feed or vertical tab in a value, come escaped. The sheet
# keeps a tab and a newline; the others XML cannot hold (or a reader turns into \n) are left
# out, as the control characters that come as they are (CONTROL_BYTES)
_COPY_ESCAPES = {b"b": b"", b"f": b"", b"n": b"\n", b"r": b"", b"t": b"\t", b"v": b""}
_COPY_ESCAPED = re.compile(rb"\\(.)", re.DOTALL)
# XML's own characters, escaped in a whole block at once: none is a tab, newline or backslash,
# so COPY's escapes are left as they are; "&" first
XML_ESCAPES = ((b"&", b"&amp;"), (b"<", b"&lt;"), (b">", b"&gt;"))
# a plain field's cell: its value between the two
FRAMES: dict[Kind, tuple[bytes, bytes]] = {
    kind: tuple(part.encode() for part in cell.split("%s")) for kind, cell in CELLS.items()
}
_EMPTY = EMPTY.encode()
_WHOLE = (b"", b"")  # a field that is its cells already
# between a column's values on their way to the worker and back: PostgreSQL's text never
# holds it, and a cell leaves out the control characters
SEPARATOR = b"\0"


@dataclass(frozen=True)
class Sealed:
    """A column of sealed numbers: the label they were sealed with, and the mask they are
    shown with (None: in full)."""

    label: str
    mask: Literal["id_number", "mobile"] | None = None


def split_block(block: bytes, width: int) -> list[bytes]:
    """The fields of a block of COPY text lines (the last without its newline), row after
    row, fit for XML: in C, a pass over the block to leave out the control characters XML
    forbids (a UTF-8 sequence never holds a byte under 0x80, so no character is cut), and
    one for each of & < > it holds, escaped."""
    block = block.translate(None, CONTROL_BYTES)
    for char, escaped in XML_ESCAPES:
        if char in block:
            block = block.replace(char, escaped)
    return copy_fields(block, width)


def key_text(key: bytes) -> str:
    """A field as it was before split_block escaped it for XML (a key to look up)."""
    for char, escaped in reversed(XML_ESCAPES):  # "&" last
        key = key.replace(escaped, char)
    return key.decode()


def copy_fields(block: bytes, width: int) -> list[bytes]:
    """The fields of a block of COPY text lines, split in C. A field that holds an escape
    (rare: a reason typed over several lines) is unescaped by itself."""
    fields = block.replace(b"\n", b"\t").split(b"\t")
    if len(fields) % width:
        raise ValueError(f"{len(fields)} fields in a block of rows {width} fields wide")
    if b"\\" in block:
        fields = [_unescape(field) if b"\\" in field else field for field in fields]
    return fields


def _unescape(field: bytes) -> bytes:
    return _COPY_ESCAPED.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), field)


def sealed_tokens(fields: list[bytes], width: int, sealed: dict[int, Sealed]) -> dict[int, bytes]:
    """A block's columns of sealed numbers, each joined by SEPARATOR: what goes to the worker
    (one object a column to pickle, not one a number)."""
    return {index: SEPARATOR.join(fields[index::width]) for index in sealed}


def open_columns(tokens: dict[int, bytes], sealed: dict[int, Sealed]) -> dict[int, bytes]:
    """Columns of sealed numbers (by position, joined by SEPARATOR) opened and masked as
    `sealed` says, as the sheet's cells, joined alike: what the worker process does."""
    ring = keyring()
    opened = {}
    for index, joined in tokens.items():
        how = sealed[index]
        plain = ring.open_all(joined.split(SEPARATOR), how.label)
        if how.mask is not None:
            plain = [MASKS[how.mask](value) for value in plain]
        opened[index] = SEPARATOR.join(column_cells("label", plain))
    return opened


def block_rows(
    fields: list[bytes],
    width: int,
    plain: dict[int, Kind],
    looked_up: dict[int, dict[bytes, bytes]],
    opened: dict[int, bytes],
) -> bytes:
    """A block's fields (split_block) as the sheet's rows: a key's field replaced by its
    cells (`looked_up`, every key of the block there), a sealed one by its opened cell
    (`opened`: open_columns), a plain one framed as a cell of its kind (`plain`). The
    frames lie between the fields, so a row is no call: the block is one join. A plain
    column with an empty value (NULL) is framed by a comprehension instead, the empty one
    an empty cell."""
    for index, cells in looked_up.items():
        fields[index::width] = list(map(cells.__getitem__, fields[index::width]))
    for index, cells in opened.items():
        fields[index::width] = cells.split(SEPARATOR)
    frames = [_WHOLE] * width
    for index, kind in plain.items():
        column = fields[index::width]
        if b"" in column:
            before, after = FRAMES[kind]
            fields[index::width] = [before + v + after if v else _EMPTY for v in column]
        else:
            frames[index] = FRAMES[kind]
    rows = len(fields) // width
    between = [frames[n - 1][1] + frames[n][0] for n in range(1, width)]
    marks = [frames[-1][1] + b"</row><row>" + frames[0][0], *between] * rows
    marks[0] = b"<row>" + frames[0][0]
    marks.append(frames[-1][1] + b"</row>")
    joined = [b""] * (len(marks) + len(fields))
    joined[0::2], joined[1::2] = marks, fields
    return b"".join(joined)
