"""Demo reference data: a round, series and qualifications, committees, review types.

Loaded by `python -m tools.setup --demo` and by the tests; safe to load again (existing rows
are kept as the sysadmin left them).
"""

from datetime import date

from tools.demo_data import COMMITTEES, DEPARTMENTS


def _rounds() -> list[tuple[str, str, date, date]]:
    """The 2026 round of the demo, and the current year's so a demo is usable any year."""
    years = sorted({2026, date.today().year})
    return [(str(y), f"{y}年度", date(y, 1, 1), date(y, 12, 31)) for y in years]


# series id: (name, [(qualification id, name, level), ...])
SERIES = {
    "gc": (
        "工程",
        [
            ("gc-zg", "正高级工程师", "正高"),
            ("gc-fg", "高级工程师", "副高"),
            ("gc-zj", "工程师", "中级"),
            ("gc-cj", "助理工程师", "初级"),
        ],
    ),
    "zxjs": (
        "中学教师",
        [
            ("zx-zg", "正高级教师", "正高"),
            ("zx-fg", "高级教师", "副高"),
            ("zx-zj", "中学一级教师", "中级"),
            ("zx-cj", "中学二级教师", "初级"),
        ],
    ),
    "gxjs": (
        "高校教师",
        [
            ("gx-zg", "教授", "正高"),
            ("gx-fg", "副教授", "副高"),
            ("gx-zj", "讲师", "中级"),
            ("gx-cj", "助教", "初级"),
        ],
    ),
    "zzjs": (
        "中专技校教师",
        [
            ("zz-fg", "高级讲师", "副高"),
            ("zz-zj", "讲师（中专技校）", "中级"),
            ("zz-cj", "助理讲师", "初级"),
        ],
    ),
    "da": (
        "档案",
        [
            ("da-zg", "研究馆员", "正高"),
            ("da-fg", "副研究馆员", "副高"),
            ("da-zj", "馆员", "中级"),
            ("da-cj", "助理馆员", "初级"),
        ],
    ),
    "tyjl": (
        "体育教练",
        [("ty-fg", "高级教练", "副高"), ("ty-zj", "教练", "中级"), ("ty-cj", "初级教练", "初级")],
    ),
}

COMMITTEE_QUALIFICATIONS = {
    "cmte-da-zj": ["da-zj", "da-cj"],
    "cmte-qg-gj": ["gc-zg", "gc-fg"],
    "cmte-tyjl-zj": ["ty-zj", "ty-cj"],
    "cmte-zzjx-zj": ["zz-zj", "zz-cj"],
    "cmte-szu-zj": ["gx-zj", "gx-cj"],
    "cmte-zx6-zj": ["zx-zj", "zx-cj"],
    "cmte-sl-zj": ["gc-zj", "gc-cj"],
    "cmte-shhg-zj": ["gc-zj"],
}

REVIEW_TYPES = [
    ("ptsb", "普通申报", False),
    ("cxxrc", "创新型人才", True),
    ("pgsb", "破格申报", True),
    ("khrd", "考核认定", False),
]


async def seed_reference(conn) -> None:
    for round_id, name, opens, closes in _rounds():
        await conn.execute(
            "INSERT INTO rounds (id, name, opens_on, closes_on) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            round_id,
            name,
            opens,
            closes,
        )
    for position, (series_id, (name, qualifications)) in enumerate(SERIES.items()):
        await conn.execute(
            "INSERT INTO series VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            series_id,
            name,
            position,
        )
        for rank, (qid, qname, level) in enumerate(qualifications):
            await conn.execute(
                "INSERT INTO qualifications VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                qid,
                series_id,
                qname,
                level,
                rank,
            )
    for dept_id, name in DEPARTMENTS.items():
        await conn.execute(
            "INSERT INTO departments VALUES ($1, $2) ON CONFLICT DO NOTHING", dept_id, name
        )
    for committee_id, (name, dept_id) in COMMITTEES.items():
        await conn.execute(
            "INSERT INTO committees (id, name, department_id) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            committee_id,
            name,
            dept_id,
        )
        for qid in COMMITTEE_QUALIFICATIONS[committee_id]:
            await conn.execute(
                "INSERT INTO committee_qualifications VALUES ($1, $2) ON CONFLICT DO NOTHING",
                committee_id,
                qid,
            )
    for position, (type_id, name, needs) in enumerate(REVIEW_TYPES):
        await conn.execute(
            "INSERT INTO review_types VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            type_id,
            name,
            needs,
            position,
        )
