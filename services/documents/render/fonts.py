"""One embedded font program per font in a merged PDF, instead of one per part.

WeasyPrint embeds each font as a HarfBuzz subset that keeps every glyph at its original
glyph id (a CJK subset is ~80 KB before its first glyph, for the ids it keeps). So the
parts of a merged PDF, each with its own subset of the same font, can all use one subset
of the union of their glyphs, built from the original font file the same way. Before
using it, the part's own program is rebuilt from that file and must come out byte for
byte as embedded: otherwise (another font file, another WeasyPrint) nothing is changed.
"""

import logging
import re
import subprocess
from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, IndirectObject, NameObject, StreamObject
from weasyprint.pdf.fonts import Font
from weasyprint.text.ffi import ffi, harfbuzz

log = logging.getLogger(__name__)

ffi.cdef(
    """
    hb_blob_t * hb_blob_create_from_file_or_fail (const char *file_name);
    hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);
    """
)

_TO_UNICODE_GLYPH = re.compile(rb"<([0-9a-fA-F]{4})>\s*<")


@dataclass
class _Group:
    """The parts' descriptors of one font (same /FontName), and the glyphs they use."""

    family: str
    style: str
    descriptors: list[DictionaryObject] = field(default_factory=list)
    programs: dict[int, tuple[StreamObject, set[int]]] = field(default_factory=dict)
    glyphs: set[int] = field(default_factory=set)


def share_fonts(writer: PdfWriter) -> int:
    """Point every part's descriptor at one union program per font; returns how many
    programs were dropped. Orphans are left for the caller to remove."""
    dropped = 0
    for name, group in _groups(writer).items():
        if len(group.programs) < 2:
            continue
        face = _original_face(group.family, group.style)
        stream, glyphs = next(iter(group.programs.values()))
        if face is None or _subset(face, glyphs) != stream.get_data():
            log.info("font %s: its original file does not rebuild it; left as it is", name)
            continue
        union = StreamObject()
        union.set_data(_subset(face, group.glyphs))
        union[NameObject("/Subtype")] = NameObject("/OpenType")
        reference = writer._add_object(union.flate_encode())
        for descriptor in group.descriptors:
            descriptor[NameObject("/FontFile3")] = reference
        dropped += len(group.programs) - 1
    return dropped


def _groups(writer: PdfWriter) -> dict[str, _Group]:
    groups: dict[str, _Group] = {}
    seen: set[int] = set()
    for page in writer.pages:
        for font in _fonts(page.get("/Resources"), seen):
            for descendant in font.get("/DescendantFonts", []):
                descendant = descendant.get_object()
                descriptor = descendant["/FontDescriptor"].get_object()
                program = descriptor.raw_get("/FontFile3")
                if not isinstance(program, IndirectObject) or "/FontFamily" not in descriptor:
                    continue
                name = str(descriptor["/FontName"]).lstrip("/")
                family = str(descriptor["/FontFamily"])
                style = name.split("+", 1)[-1].removeprefix(family.replace(" ", "-")).strip("-")
                group = groups.setdefault(name, _Group(family, style or "Regular"))
                group.descriptors.append(descriptor)
                glyphs = _glyphs(font)
                group.glyphs |= glyphs
                group.programs.setdefault(program.idnum, (program.get_object(), glyphs))
    return groups


def _fonts(resources, seen: set[int]):
    """The Type0 fonts of some resources, and of the form XObjects they use."""
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        if isinstance(font, IndirectObject) and font.idnum not in seen:
            seen.add(font.idnum)
            font = font.get_object()
            if font.get("/Subtype") == "/Type0":
                yield font
    for xobject in (resources.get("/XObject") or {}).values():
        if isinstance(xobject, IndirectObject) and xobject.idnum not in seen:
            seen.add(xobject.idnum)
            yield from _fonts(xobject.get_object().get("/Resources"), seen)


def _glyphs(font) -> set[int]:
    """The glyph ids a font maps to text: the ones WeasyPrint kept in its subset."""
    to_unicode = font["/ToUnicode"].get_object().get_data()
    return {int(g, 16) for g in _TO_UNICODE_GLYPH.findall(to_unicode)}


@cache
def installed_font(family: str, style: str) -> tuple[str, int] | None:
    """(file, face index) of the installed font fontconfig picks for family and style."""
    try:
        found = subprocess.run(
            ["fc-match", "--format=%{file}\n%{index}", f"{family}:style={style}"],
            capture_output=True,
            check=True,
            text=True,
            timeout=10,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    return found[0], int(found[1] or 0)


@cache
def _original_face(family: str, style: str):
    """The HarfBuzz face of the installed font file fontconfig picks for family and style."""
    found = installed_font(family, style)
    if found is None:
        return None
    blob = harfbuzz.hb_blob_create_from_file_or_fail(found[0].encode())
    if blob == ffi.NULL:
        return None
    face = ffi.gc(harfbuzz.hb_face_create(blob, found[1]), harfbuzz.hb_face_destroy)
    harfbuzz.hb_blob_destroy(blob)  # the face holds its own reference
    return face


def _subset(face, glyphs: set[int]) -> bytes:
    """What WeasyPrint embeds for these glyphs of this face (its own subsetting code)."""
    font = SimpleNamespace(hb_face=face, missing={}, family="", file_content=b"")
    Font._harfbuzz_subset(font, dict.fromkeys(glyphs), False)
    return font.file_content
