"""Rosters paginated here, not by WeasyPrint: every page is known before anything renders.

A roster of a thousand people is one long table, and WeasyPrint lays out a long table page
after page in one process. Cutting the roster into pages first (each row's height from its
text, each page filled up to the page box) makes every page independent: chunks of pages
render in parallel workers, and "第 x 页 共 y 页" is right in each chunk without a second
pass. The renderer checks each chunk's page count against this plan (`RosterPlan.pages`).

Pure: no I/O. The metrics mirror templates/documents.css (`@page roster`, `table.roster`).
"""

import math
import re
from dataclasses import dataclass, field
from datetime import date

from shared.contracts.documents.snapshots import Roster, RosterPerson


@dataclass(frozen=True)
class RosterGeometry:
    content_height_mm: float = 210 - 12 - 14  # A4 landscape less @page roster's margins
    slack_mm: float = 0.6  # left free at the bottom of every page: the last rule, rounding
    title_mm: float = 8 + 1.5  # h1, margin below
    meta_line_mm: float = 5.0
    meta_gap_mm: float = 2.0
    header_mm: float = 8.0  # the repeated column header row
    line_mm: float = 4.8  # table.roster td line-height
    cell_padding_mm: float = 1.2  # top + bottom
    cell_inset_mm: float = 2.4 + 0.2  # left + right padding, and the rule
    min_row_mm: float = 7.0
    font_mm: float = 10 * 25.4 / 72  # 10pt text, 1em
    foot_line_mm: float = 5.0
    foot_sign_mm: float = 2.5 + 2 + 20  # margin, sign margin, two 10mm lines (line-height 2)
    page_width_mm: float = 297 - 14 - 14

    def row_mm(self, lines: int) -> float:
        return max(self.min_row_mm, lines * self.line_mm + self.cell_padding_mm)

    def head_mm(self, meta_lines: int) -> float:
        return self.title_mm + meta_lines * self.meta_line_mm + self.meta_gap_mm

    def foot_mm(self, note_lines: int) -> float:
        return note_lines * self.foot_line_mm + self.foot_sign_mm


GEOMETRY = RosterGeometry()


@dataclass(frozen=True)
class Column:
    title: str
    width_mm: float
    value: str  # a key of `cells`
    left: bool = False


PRE_COLUMNS = (
    Column("序号", 12, "no"),
    Column("姓名", 24, "name"),
    Column("性别", 11, "gender"),
    Column("出生年月", 20, "birth"),
    Column("学历", 24, "education"),
    Column("现专业技术资格", 36, "current_title"),
    Column("申报专业技术资格", 36, "qualification"),
    Column("评审类型", 22, "review_type"),
    Column("评委会", 84, "committee", left=True),
)
POST_COLUMNS = (
    Column("序号", 12, "no"),
    Column("姓名", 26, "name"),
    Column("性别", 11, "gender"),
    Column("出生年月", 20, "birth"),
    Column("学历", 26, "education"),
    Column("通过专业技术资格", 40, "qualification"),
    Column("评审类型", 24, "review_type"),
    Column("评委会", 110, "committee", left=True),
)
COLUMNS = {"pre_publicity_roster": PRE_COLUMNS, "post_publicity_roster": POST_COLUMNS}

CLOSING_NOTES = {
    "pre_publicity_roster": (
        "公示期间，对上述人员的申报材料、业绩成果和职业道德有异议的，请以书面形式实名向本单位反映，"
        "并提供必要的证据材料。{contact}{method}"
    ),
    "post_publicity_roster": (
        "以上人员已通过评审委员会评审。公示期间，对公示对象有异议的，请以书面形式实名向本单位反映，"
        "并提供必要的证据材料。{contact}{method}"
    ),
}


def month(value: date | None) -> str:
    return f"{value.year}.{value.month:02d}" if value else ""


def cells(person: RosterPerson, number: int) -> dict[str, str]:
    return {
        "no": str(number),
        "name": person.name,
        "gender": person.gender,
        "birth": month(person.birth_date),
        "education": person.education,
        "current_title": person.current_title,
        "qualification": person.qualification,
        "review_type": person.review_type,
        "committee": person.committee,
    }


def closing_note(kind: str, roster: Roster) -> str:
    p = roster.publicity
    contact = f"异议受理联系方式：{p.contact}。" if p.contact else ""
    method = f"公示方式：{p.method}。" if p.method else ""
    return CLOSING_NOTES[kind].format(contact=contact, method=method)


# --- how many lines a text takes in a cell ------------------------------------------------

_TOKENS = re.compile(r"[A-Za-z0-9@._\-]+|\s+|.", re.S)


def _char_em(ch: str) -> float:
    """An upper bound of a character's advance in Noto Serif CJK, in em."""
    if ch.isspace():
        return 0.35
    if ord(ch) < 0x80:
        return 0.8 if ch.isupper() or ch in "mwMW@%&" else 0.62
    return 1.0  # ideographs and full-width punctuation


def lines_for(text: str, width_em: float) -> int:
    """Lines `text` wraps to in a box `width_em` wide: CJK breaks anywhere, words do not."""
    if not text:
        return 1
    capacity = width_em * 0.97  # kinsoku moves a character now and then
    lines, used = 1, 0.0
    for token in _TOKENS.findall(text):
        width = sum(_char_em(c) for c in token)
        if token.isspace():
            used = used + width if used else 0.0
            continue
        if used + width <= capacity:
            used += width
            continue
        if width <= capacity:
            lines, used = lines + 1, width
            continue
        for ch in token:  # a word wider than the cell breaks anywhere (overflow-wrap)
            w = _char_em(ch)
            if used + w > capacity and used:
                lines, used = lines + 1, 0.0
            used += w
    return lines


# --- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    number: int  # 序号, from 1
    cells: tuple[str, ...]
    lines: int  # its tallest cell's lines: the row's height is geometry.row_mm(lines)


@dataclass
class Sheet:
    folio: int  # page number, from 1
    rows: list[Row] = field(default_factory=list)
    first: bool = False
    last: bool = False


@dataclass(frozen=True)
class RosterPlan:
    kind: str
    columns: tuple[Column, ...]
    sheets: tuple[Sheet, ...]
    head_mm: float
    foot_mm: float
    note: str

    @property
    def pages(self) -> int:
        return len(self.sheets)

    def row_heights(self, geometry: RosterGeometry = GEOMETRY) -> dict[int, float]:
        """Row height (mm) by line count, for the lines counts the plan has."""
        lines = {row.lines for sheet in self.sheets for row in sheet.rows}
        return {n: round(geometry.row_mm(n), 2) for n in sorted(lines)}


def plan_roster(
    kind: str, roster: Roster, geometry: RosterGeometry = GEOMETRY, extra_lines: int = 0
) -> RosterPlan:
    """Rows measured and packed into pages; `extra_lines` pads every row (a cautious re-plan)."""
    columns = COLUMNS[kind]
    g = geometry
    rows = []
    for number, person in enumerate(roster.people, start=1):
        values = cells(person, number)
        texts = tuple(values[c.value] for c in columns)
        widths = ((c.width_mm - g.cell_inset_mm) / g.font_mm for c in columns)
        lines = max(lines_for(t, w) for t, w in zip(texts, widths, strict=True))
        rows.append(Row(number, texts, lines + extra_lines))
    meta = f"单位：{roster.unit_name}　　　　公示时间：2000年12月31日至2000年12月31日"
    head_mm = g.head_mm(lines_for(meta, g.page_width_mm / g.font_mm))
    note = closing_note(kind, roster)
    foot_mm = g.foot_mm(lines_for(note, g.page_width_mm / g.font_mm) + extra_lines)
    sheets = tuple(_pack(rows, head_mm, foot_mm, g))
    return RosterPlan(kind, columns, sheets, head_mm, foot_mm, note)


def _pack(rows: list[Row], head_mm: float, foot_mm: float, g: RosterGeometry) -> list[Sheet]:
    room = g.content_height_mm - g.slack_mm
    sheets = [Sheet(1, first=True)]
    used = head_mm + g.header_mm
    for row in rows:
        pitch = g.row_mm(row.lines)  # collapsed rules lie inside the rows
        if used + pitch > room and sheets[-1].rows:
            sheets.append(Sheet(len(sheets) + 1))
            used = g.header_mm
        sheets[-1].rows.append(row)
        used += pitch
    if used + foot_mm > room:  # the closing words and the seal go with at least one row
        last = sheets[-1]
        carried = [last.rows.pop()] if len(last.rows) > 1 else []
        sheets.append(Sheet(len(sheets) + 1, rows=carried))
    sheets[-1].last = True
    return sheets


def page_runs(pages: int, workers: int, target: int = 12) -> list[tuple[int, int]]:
    """(first page, pages) of each chunk a roster is rendered in: two chunks for each worker,
    or as many more (a multiple of the workers) as keep each within `target` pages; their
    lengths within one page of each other, longest first. Workers take chunks as they finish
    one, so equal shares end together: 42 pages in runs of 6 were 7 chunks, 24 pages for one
    worker and 18 for the other. A chunk costs its own start (the stylesheet, the fonts, their
    subsets in its PDF: some 40 ms), so no more of them than that: 42 pages in 4 chunks took
    3 % less than in 8. A roster of up to half `target` is one piece: split, it would be all
    starts."""
    if pages <= target // 2:
        return [(0, pages)]
    count = min(workers * max(2, math.ceil(pages / (workers * target))), pages // 2)
    if count > workers:
        count -= count % workers  # capped by the two pages a chunk: still equal shares
    length, longer = divmod(pages, count)
    runs, first = [], 0
    for n in range(count):
        run = length + (n < longer)
        runs.append((first, run))
        first += run
    return runs


def rows_fit_on_page(geometry: RosterGeometry = GEOMETRY, lines: int = 1) -> int:
    """How many rows of `lines` lines a page without the head holds (for tests)."""
    pitch = geometry.row_mm(lines)
    return int((geometry.content_height_mm - geometry.slack_mm - geometry.header_mm) // pitch)
