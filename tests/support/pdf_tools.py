"""Reading PDFs as a person would: poppler's pdftotext, pdffonts and pdftoppm."""

import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pypdf
from PIL import Image


def _poppler(tool: str, pdf: bytes, *args: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        return subprocess.run(
            [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text, in reading order (pdftotext, one form feed between pages)."""
    text = _poppler("pdftotext", pdf, "-enc", "UTF-8").decode()
    return text.split("\f")[:-1]


def text_of(pdf: bytes) -> str:
    return "\n".join(page_texts(pdf))


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


@dataclass(frozen=True)
class Font:
    name: str
    type: str
    embedded: bool
    subset: bool
    unicode: bool


def fonts_of(pdf: bytes) -> list[Font]:
    lines = _poppler("pdffonts", pdf).decode().splitlines()[2:]
    fonts = []
    for line in lines:
        # name, type (may contain spaces), encoding, emb, sub, uni, object id, generation
        parts = line.split()
        emb, sub, uni = parts[-5:-2]
        fonts.append(
            Font(parts[0], " ".join(parts[1:-6]), emb == "yes", sub == "yes", uni == "yes")
        )
    return fonts


@dataclass(frozen=True)
class Ink:
    """Where a page has anything printed, in mm from the top left corner."""

    width_mm: float
    height_mm: float
    left: float
    top: float
    right: float
    bottom: float


def ink_of_pages(pdf: bytes, dpi: int = 40) -> list[Ink | None]:
    """Each page rasterised (pdftoppm), and the box around its non-white pixels."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(path), f"{folder}/p"],
            check=True,
            timeout=120,
        )
        inks = []
        for png in sorted(Path(folder).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1])):
            image = Image.open(png).point(lambda v: 255 if v > 200 else 0).convert("L")
            box = Image.eval(image, lambda v: 255 - v).getbbox()
            mm = 25.4 / dpi
            w, h = image.width * mm, image.height * mm
            inks.append(None if box is None else Ink(w, h, *(v * mm for v in box)))
        return inks


@dataclass(frozen=True)
class Signature:
    """What pyHanko's validator says of a PDF's one signature, against given trust roots."""

    intact: bool  # the signed bytes are the bytes signed
    valid: bool  # the signature over them checks out
    trusted: bool  # its certificate chains to a trust root
    whole_file: bool  # it covers the entire file
    signer: str


async def signature_of(pdf: bytes, trust_root_files: list[str]) -> Signature:
    """The validation of the PDF's only signature (pyHanko's own, as a reader's would be);
    a file too damaged to find the signature in counts as not intact."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    roots = [load_cert_from_pemder(path) for path in trust_root_files]
    try:
        [embedded] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        status = await async_validate_pdf_signature(embedded, ValidationContext(trust_roots=roots))
    except Exception as error:  # damaged beyond reading: not intact
        return Signature(False, False, False, False, f"unreadable: {error!r}")
    return Signature(
        status.intact,
        status.valid,
        status.trusted,
        status.coverage is SignatureCoverageLevel.ENTIRE_FILE,
        status.signing_cert.subject.human_friendly,
    )
