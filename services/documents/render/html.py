"""Snapshots into HTML: one Jinja2 template per document, one stylesheet for all."""

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
import weasyprint
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.documents.render import layout
from services.documents.render.snapshots import KINDS, Kind
from shared.contracts.documents.snapshots import Roster

TEMPLATES = Path(__file__).resolve().parent / "templates"
CHINA = ZoneInfo("Asia/Shanghai")
# Bump when the Python side of rendering changes what is printed; template and stylesheet
# changes are picked up by the checksum of their files.
ENGINE_VERSION = "1"


def cn_date(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def cn_month(value: date | None) -> str:
    return f"{value.year}年{value.month}月" if value else ""


def cn_minute(value: datetime | None) -> str:
    """A moment as people in Shenzhen read it: 2026年6月1日 09:05."""
    if value is None:
        return ""
    local = value.astimezone(CHINA)
    return f"{cn_date(local.date())} {local:%H:%M}"


def qr_data_uri(text: str) -> str:
    """The text as a QR code, an SVG data URI (vector: sharp at any print resolution)."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=4, border=0)


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(cn_date=cn_date, cn_month=cn_month, cn_minute=cn_minute)
ENV.globals.update(qr=qr_data_uri, geometry=layout.GEOMETRY)


@cache
def template_version() -> str:
    """Names what the templates print: a reprint after any template change renders anew."""
    digest = hashlib.sha256(f"{ENGINE_VERSION}\n{weasyprint.__version__}\n".encode())
    for path in sorted(TEMPLATES.iterdir()):
        digest.update(path.name.encode() + b"\n" + path.read_bytes())
    return f"{ENGINE_VERSION}-{digest.hexdigest()[:16]}"


def document_html(kind: Kind, snapshot) -> str:
    """The whole document as one HTML page (a roster with all its pages)."""
    if kind.roster:
        plan = layout.plan_roster(kind.key, snapshot)
        return roster_html(kind, snapshot, plan, plan.sheets)
    return ENV.get_template(kind.template).render(kind=kind, doc=snapshot)


def roster_html(
    kind: Kind, roster: Roster, plan: layout.RosterPlan, sheets: Sequence[layout.Sheet]
) -> str:
    """Some pages of a planned roster; page numbers are the plan's, so chunks agree."""
    return ENV.get_template(kind.template).render(
        kind=kind,
        doc=roster,
        sheets=sheets,
        total_pages=plan.pages,
        row_heights=plan.row_heights(),
        columns=plan.columns,
        head_mm=plan.head_mm,
        foot_mm=plan.foot_mm,
        closing_note=plan.note,
    )


def kind_of(key: str) -> Kind:
    return KINDS[key]
