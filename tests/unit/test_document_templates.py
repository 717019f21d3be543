"""Each document rendered from a fixed snapshot, read back as a person would read it."""

import io
import re
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pypdf
import pytest
import segno
from PIL import Image

from services.documents.render import html, layout, worker
from services.documents.render.snapshots import KINDS, input_checksum
from tests.support import document_samples as samples
from tests.support.pdf_tools import fonts_of, ink_of_pages, page_count, page_texts

CASE_FIELDS = ["深圳市南山区智能制造研究院有限公司", "2026000001", "深圳市工程师联合会"]
FORM_FIELDS = [
    *CASE_FIELDS,
    "11010519491231002X",
    "华南理工大学",
    "机械设计制造及其自动化",
    "深圳市华强电子有限公司",
    "基于机器视觉的精密装配误差补偿方法研究",
    "470 学时",
    "2022年：优秀",
    "具备较强的技术攻关和团队组织能力",
    "本科毕业证书.jpg",
    "申报人（签名）",
    "单位负责人（签名）",
    "单位（盖章）",
    "2026年5月28日",
]
REPORT_FIELDS = [
    *CASE_FIELDS,
    "2026年6月1日至2026年6月5日",
    "单位内部公告栏及内部网站",
    "人力资源部 李老师 0755-86001234",
    "公示期间未收到任何单位或个人的异议。",
    "单位（盖章）",
]
ROSTER_FIELDS = [
    "深圳市南山区智能制造研究院有限公司",
    "2026年度",
    "序号",
    "出生年月",
    "评委会",
    "深圳市轻工专业高级专业技术资格评审委员会",
    "公示单位（盖章）",
    "异议受理联系方式：人力资源部 李老师 0755-86001234",
]

# kind: (snapshot, pages, what the text must hold)
DOCUMENTS = {
    "pre_publicity_roster": (
        samples.roster(12),
        1,
        [*ROSTER_FIELDS, "评前公示名册", "申报专业技术资格", "2026年6月1日至2026年6月5日"],
    ),
    "registration_form": (
        samples.registration(1),
        2,
        ["专业技术资格评审登记表", samples.person(1).name, *FORM_FIELDS],
    ),
    "pre_publicity_report": (
        samples.report(1),
        1,
        ["专业技术资格评前公示情况表", samples.person(1).name, "申报专业技术资格", *REPORT_FIELDS],
    ),
    "declaration_form": (
        samples.declaration(1),
        3,
        [
            "专业技术资格评审（申报）表",
            samples.person(1).name,
            *FORM_FIELDS,
            "2026年7月10日",
            "2026年7月15日通过",
            "公示期间未收到异议。",
            "日常工作部门（盖章）",
            "评审委员会（盖章）",
            "主任委员（签名）",
            "诚信承诺书（第 1 版）",
            "不存在弄虚作假、伪造变造等情形",
            "申报人已于 2026年5月20日 09:30 在线阅读并确认本承诺（IP 地址：203.0.113.5）",
        ],
    ),
    "post_publicity_roster": (
        samples.roster(12, samples.POST),
        1,
        [*ROSTER_FIELDS, "评后公示名单", "通过专业技术资格", "2026年11月2日至2026年11月6日"],
    ),
    "post_publicity_report": (
        samples.report(1, samples.POST),
        1,
        [
            "专业技术资格评后公示情况表",
            "评审通过资格",
            "2026年11月2日至2026年11月6日",
            "公示期间异议",
            "第1号（2026年11月3日社会公众提出）：反映该同志申报的获奖证书颁发单位与证书",
            "核实结论：不成立。经向颁奖单位函询，证书真实有效。",
        ],
    ),
}


@cache
def rendered(kind: str) -> bytes:
    return worker.render_document(kind, DOCUMENTS[kind][0]).content


def flat(text: str) -> str:
    """Text without the line breaks and spaces that layout puts into long values."""
    return re.sub(r"\s+", "", text)


def test_every_kind_has_a_sample():
    assert set(DOCUMENTS) == set(KINDS)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_each_document_shows_its_names_and_fields(kind):
    text = flat("".join(page_texts(rendered(kind))))
    missing = [field for field in DOCUMENTS[kind][2] if flat(field) not in text]
    assert not missing


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_each_document_has_its_pages_numbered_x_of_y(kind):
    pages = page_texts(rendered(kind))
    assert len(pages) == page_count(rendered(kind)) == DOCUMENTS[kind][1]
    for number, text in enumerate(pages, start=1):
        assert f"第{number}页共{len(pages)}页" in flat(text)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_each_document_embeds_its_chinese_fonts(kind):
    fonts = fonts_of(rendered(kind))
    assert {f.name.split("+")[1] for f in fonts} <= {"Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC-Bold"}
    assert all(f.embedded and f.subset and f.unicode for f in fonts)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_nothing_is_printed_outside_the_page_margins(kind):
    landscape = KINDS[kind].roster
    left, top = (14, 12) if landscape else (17, 16)
    for ink in ink_of_pages(rendered(kind)):
        assert (ink.width_mm > ink.height_mm) is landscape
        assert ink.left >= left - 1 and ink.right <= ink.width_mm - left + 1
        assert ink.top >= top - 1 and ink.bottom <= ink.height_mm - 6  # the folio's line


def test_the_same_snapshot_renders_to_the_same_bytes():
    again = worker.render_document("registration_form", samples.registration(1)).content
    assert again == rendered("registration_form")


def test_the_input_checksum_names_kind_snapshot_and_template_version():
    form = samples.registration(1)
    same = samples.registration(1)
    changed = form.model_copy(update={"basic": form.basic.model_copy(update={"major": "物理"})})
    checksum = input_checksum("registration_form", form, "v1")
    assert checksum == input_checksum("registration_form", same, "v1")
    assert checksum != input_checksum("registration_form", changed, "v1")
    assert checksum != input_checksum("registration_form", form, "v2")
    assert checksum != input_checksum("declaration_form", form, "v1")
    assert html.template_version() == html.template_version()


def test_a_long_roster_repeats_its_header_and_numbers_every_row():
    roster = samples.roster(130)
    plan = layout.plan_roster("pre_publicity_roster", roster)
    pdf = worker.render_document("pre_publicity_roster", roster).content
    pages = page_texts(pdf)
    assert len(pages) == plan.pages > 4
    for number, text in enumerate(pages, start=1):
        assert all(title in text for title in ("序号", "姓名", "出生年月", "评委会"))
        assert f"第{number}页共{len(pages)}页" in flat(text)
    row_numbers = [int(n) for n in re.findall(r"^(\d{1,3})$", "\n".join(pages), re.M)]
    assert row_numbers == list(range(1, 131))
    assert "公示单位（盖章）" in pages[-1] and "公示单位（盖章）" not in pages[-2]


@pytest.mark.parametrize("people", [1, 20, 21, 22, 45, 46, 47, 72])
def test_the_roster_plan_matches_the_rendered_pages(people):
    roster = samples.roster(people)
    plan = layout.plan_roster("post_publicity_roster", roster)
    rendered_pages = worker.render_document("post_publicity_roster", roster).pages
    assert rendered_pages == plan.pages


def test_roster_pages_rendered_in_chunks_merge_into_the_whole_roster():
    roster = samples.roster(150)
    kind = "pre_publicity_roster"
    plan = layout.plan_roster(kind, roster)
    whole = worker.render_document(kind, roster).content
    parts = [
        worker.render_roster_pages(kind, roster, plan, first, 2).content
        for first in range(0, plan.pages, 2)
    ]
    merged = worker.merge(parts)
    assert merged.pages == plan.pages
    assert page_texts(merged.content) == page_texts(whole)
    assert len(font_programs(merged.content)) == len(font_programs(whole)) == 2


@pytest.mark.parametrize("pages", [1, 6, 7, 12, 24, 25, 42, 48, 49, 100, 251])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_roster_is_cut_into_equal_shares_of_at_most_twelve_pages(pages, workers):
    runs = layout.page_runs(pages, workers)
    assert [first for first, _ in runs] == [sum(n for _, n in runs[:i]) for i in range(len(runs))]
    assert sum(n for _, n in runs) == pages
    lengths = [n for _, n in runs]
    assert max(lengths) - min(lengths) <= 1 and lengths == sorted(lengths, reverse=True)
    if pages <= 6:
        assert runs == [(0, pages)]  # too short to be worth a chunk's start
        return
    assert max(lengths) <= 12 and min(lengths) >= 2
    assert len(runs) % workers == 0 or len(runs) == pages // 2  # an equal share each
    # two each where the pages allow it, less what would leave the shares unequal
    assert len(runs) >= min(2 * workers, pages // 2) - (workers - 1)


def test_a_chunk_that_does_not_come_out_as_planned_is_refused():
    roster = samples.roster(60)
    plan = layout.plan_roster("pre_publicity_roster", roster)
    crowded = layout.RosterPlan(
        plan.kind,
        plan.columns,
        (layout.Sheet(1, plan.sheets[0].rows + plan.sheets[1].rows, True),),
        plan.head_mm,
        plan.foot_mm,
        plan.note,
    )
    with pytest.raises(worker.PaginationMismatch):
        worker.render_roster_pages("pre_publicity_roster", roster, crowded, 0, 1)


def test_merging_keeps_the_documents_in_order_with_a_bookmark_each_and_one_font_each():
    forms = [samples.declaration(n) for n in (3, 1, 2)]
    parts = [worker.render_document("declaration_form", f).content for f in forms]
    merged = worker.merge(parts, [f.case.applicant_name for f in forms])
    assert worker.merge(parts, [f.case.applicant_name for f in forms]).content == merged.content
    texts = page_texts(merged.content)
    assert merged.pages == sum(page_count(p) for p in parts)
    starts = [i for i, t in enumerate(texts) if "第1页共" in flat(t)]
    assert [f.case.case_no in texts[i] for f, i in zip(forms, starts, strict=True)] == [True] * 3
    outline = pypdf.PdfReader(io.BytesIO(merged.content)).outline
    assert [item.title for item in outline] == [f.case.applicant_name for f in forms]
    assert len(font_programs(merged.content)) == 2  # one per font, not one per part
    assert len(merged.content) < sum(map(len, parts)) / 2


def font_programs(pdf: bytes) -> set[int]:
    """The embedded font files a PDF's fonts point at (object numbers)."""
    programs = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            for descendant in font.get_object().get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                programs.add(descriptor.raw_get("/FontFile3").idnum)
    return programs


def test_the_declaration_form_prints_the_case_number_as_a_qr_code():
    form = samples.declaration(1)
    pdf = rendered("declaration_form")
    expected = segno.make(form.case.case_no, error="m", micro=False).matrix
    assert read_qr_modules(pdf, len(expected)) == [list(row) for row in expected]


def read_qr_modules(pdf: bytes, size: int, dpi: int = 300) -> list[list[int]]:
    """The dark/light modules of the QR code at the top right of page 1."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-gray",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                str(path),
                f"{folder}/p",
            ],
            check=True,
        )
        page = Image.open(next(Path(folder).glob("p-*.png"))).convert("L")
    px = dpi / 25.4
    corner = page.crop((int(150 * px), int(8 * px), int(200 * px), int(60 * px)))
    dark = corner.point(lambda v: 255 if v < 128 else 0)
    _, top, _, _ = dark.getbbox()
    bottom = top
    while dark.crop((0, bottom, dark.width, bottom + 1)).getbbox():  # down to a blank row
        bottom += 1
    left, top, right, _ = dark.crop((0, 0, dark.width, bottom)).getbbox()
    module = (right - left) / size  # the code is square, with no quiet zone of its own
    return [
        [
            int(
                corner.getpixel((int(left + (x + 0.5) * module), int(top + (y + 0.5) * module)))
                < 128
            )
            for x in range(size)
        ]
        for y in range(size)
    ]


@pytest.mark.parametrize(
    "text, width_em, lines",
    [
        ("", 5, 1),
        ("深圳市轻工专业", 7.5, 1),
        ("深圳市轻工专业高", 7.5, 2),
        ("Anna Maria Smith", 6, 3),  # words are not broken
        ("ABCDEFGHIJKLMNOPQRST", 5, 4),  # unless wider than the cell
    ],
)
def test_lines_for_counts_wrapped_lines(text, width_em, lines):
    assert layout.lines_for(text, width_em) == lines
