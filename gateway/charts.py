"""Bar charts drawn on the server: the geometry of a horizontal bar chart, which the
template `statistics/_chart.html` turns into inline SVG (no script, no font or library from
elsewhere: its text is in the page's own font). Each chart stands beside the table of the
same figures, which is what screen readers and copying use."""

from dataclasses import dataclass

WIDTH = 640  # the viewBox's; the SVG scales to its box (about this wide on a desktop)
LABEL_WIDTH = 230  # the names, right-aligned against the bars
VALUE_WIDTH = 80  # the figure after each bar
BAR_LEFT = LABEL_WIDTH + 10
BAR_SPACE = WIDTH - BAR_LEFT - VALUE_WIDTH
ROW_HEIGHT = 28
BAR_HEIGHT = 18
TOP = 8
LABEL_CHARS = 15  # a longer name is cut, whole in the bar's tooltip and in the table


@dataclass(frozen=True)
class Bar:
    label: str  # as shown (cut when long)
    full_label: str
    value_text: str
    y: int  # the row's top
    width: float  # the bar's length


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    bar_left: int = BAR_LEFT
    bar_height: int = BAR_HEIGHT
    row_height: int = ROW_HEIGHT
    label_right: int = LABEL_WIDTH


def bar_chart(title: str, rows: list[dict], label: str, value: str, kind: str) -> BarChart | None:
    """The chart of `value` by `label` over these rows; None when there is nothing to draw."""
    values = [row[value] or 0 for row in rows]
    if not rows or not any(values):
        return None
    top = 1.0 if kind == "rate" else max(values)
    bars = [
        Bar(
            _cut(str(row[label])),
            str(row[label]),
            format_value(kind, row[value])
            + (" 天" if kind == "days" and row[value] is not None else ""),
            TOP + i * ROW_HEIGHT,
            round(BAR_SPACE * (v / top), 1),
        )
        for i, (row, v) in enumerate(zip(rows, values, strict=True))
    ]
    return BarChart(title, bars, TOP * 2 + len(rows) * ROW_HEIGHT)


def format_value(kind: str, value) -> str:
    """A figure as the pages write it: 85.3%, 4.2 (days), 1,024; — when there is none."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
