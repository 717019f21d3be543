"""Demo reference data from the manual: rounds, series and qualifications, departments
(日常工作部门), the office, committees and what each reviews, review types.

The cases service's reference data (`DEMO_REFERENCE`, loaded by `python -m tools.setup
--demo` and by the tests) and the demo reviewer accounts both use these ids.
"""

from datetime import date, timedelta

from services.accounts.domain.validation import id_check_char
from services.cases.reference_seed import ReferenceSeed
from shared.organisations import OFFICE_ID, OFFICE_NAME

OFFICE = (OFFICE_ID, OFFICE_NAME)

DEPARTMENTS = {
    "dept-daj": "深圳市档案局",
    "dept-gcslh": "深圳市工程师联合会",
    "dept-wtly": "深圳市文体旅游局",
    "dept-jyj": "深圳市教育局",
    "dept-szu": "深圳大学",
    "dept-barsj": "宝安区人力资源局",
    "dept-swj": "深圳市水务局",
    "dept-sjxh": "深圳市塑胶行业协会",
}

# committee id: (name, department id)
COMMITTEES = {
    "cmte-da-zj": ("深圳市档案中级专业技术资格评审委员会", "dept-daj"),
    "cmte-qg-gj": ("深圳市轻工专业高级专业技术资格评审委员会", "dept-gcslh"),
    "cmte-tyjl-zj": ("深圳市体育教练员中级专业技术资格评审委员会", "dept-wtly"),
    "cmte-zzjx-zj": ("深圳市中专技校教师中级专业技术资格评审委员会", "dept-jyj"),
    "cmte-szu-zj": ("深圳大学教师中级专业技术资格评审委员会", "dept-szu"),
    "cmte-zx6-zj": ("深圳市中学教师中级专业技术资格第六评审委员会", "dept-barsj"),
    "cmte-sl-zj": ("深圳市水利水电专业中级专业技术资格评审委员会", "dept-swj"),
    "cmte-shhg-zj": ("深圳市石油化工专业中级专业技术资格评审委员会", "dept-sjxh"),
}


def demo_rounds() -> list[tuple[str, str, date, date]]:
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


def demo_reference() -> ReferenceSeed:
    """The demo's reference data, with a round of the current year."""
    return ReferenceSeed(
        rounds=demo_rounds(),
        series=SERIES,
        departments=DEPARTMENTS,
        committees=COMMITTEES,
        committee_qualifications=COMMITTEE_QUALIFICATIONS,
        review_types=REVIEW_TYPES,
    )


# --- review meetings: a few experts per committee, and two committees' meeting rules ---

NS_UNIT = "深圳市南山科技发展有限公司"  # a demo unit: an expert of it is recused on its cases
SURNAMES = "张王李赵陈杨黄周吴徐孙马朱胡郭何林罗高梁"

# committee id: (its experts, the series and level they hold)
COMMITTEE_EXPERTS = {
    "cmte-qg-gj": (9, "gc", ("正高", "正高", "正高", "副高")),
    "cmte-da-zj": (4, "da", ("副高", "中级")),
    "cmte-tyjl-zj": (3, "tyjl", ("中级",)),
    "cmte-zzjx-zj": (3, "zzjs", ("中级",)),
    "cmte-szu-zj": (3, "gxjs", ("副高",)),
    "cmte-zx6-zj": (3, "zxjs", ("中级",)),
    "cmte-sl-zj": (4, "gc", ("中级", "副高")),
    "cmte-shhg-zj": (3, "gc", ("中级",)),
}
# 轻工 高级 sits meetings of 5 in the demo (a committee's own minimum, as a region may set with
# provincial approval), so its 9 experts can be drawn; 档案 records results reached outside
# the system and keeps the 评审通过 / 评审不通过 buttons.
MEETING_RULES = {
    "cmte-qg-gj": ("speciality", 5, False),
    "cmte-da-zj": ("speciality", None, True),
}


def _id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


def demo_experts(today: date) -> list[tuple]:
    """(committee, name, ID number, mobile, work unit, series, speciality, level, joined, ends)
    for each committee's experts; one of 轻工's works at 南山科技, a demo unit."""
    joined = today - timedelta(days=60)
    rows = []
    for c, (committee, (count, series, levels)) in enumerate(COMMITTEE_EXPERTS.items()):
        for n in range(count):
            serial = c * 20 + n
            unit = NS_UNIT if (committee, n) == ("cmte-qg-gj", 8) else f"深圳市第{serial + 1}研究院"
            rows.append((
                committee, f"{SURNAMES[serial % len(SURNAMES)]}专家{serial + 1:02d}",
                _id_number(f"44030519{60 + serial % 30:02d}0101{serial:03d}"),
                f"1390000{serial:04d}", unit, series, "本专业", levels[n % len(levels)],
                joined, joined + timedelta(days=3 * 365 - 30),
            ))  # fmt: skip
    return rows
