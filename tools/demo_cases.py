"""Demo cases for a first look: `python -m tools.setup --demo` creates them once.

The cases of the demo units are walked through the workflow over RPC exactly as each role
would through the gateway (the applicant opens, fills and uploads, the unit approves and
publicises, the department, office and committee review), spread over the unit's ten steps so
that every demo account has work waiting. The cases and documents services run in this
process on broker names of their own, so no running system sees the moves (no SMS), and on a
clock set back in time, so the publicity periods are over and the history reads like weeks of
work. Loaded once: nothing happens while a demo unit has cases.
"""

import asyncio
import contextlib
import io
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import asyncpg

from services.accounts.personal import opened_user
from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.domain.calendar import is_working_day, package_knows, publicity_period
from services.documents.app import DocumentsDeps
from services.documents.app import build_service as build_documents
from services.documents.jobs import JobSettings
from services.documents.render.fonts import installed_font
from services.documents.render.pool import RenderSettings
from shared.clock import SHENZHEN, Clock
from shared.contracts.base import Method
from shared.contracts.cases import rpc as cases_rpc
from shared.contracts.cases.integrity import PLEDGE_CURRENT
from shared.contracts.documents import rpc as documents_rpc
from shared.rpc import Actor, RpcClient, RpcError
from shared.settings import Settings
from shared.topology import Names, delete_prefix
from tools.demo import UNITS
from tools.demo_data import COMMITTEES, OFFICE

log = logging.getLogger("setup")

NANSHAN, FUTIAN = UNITS[0]["org_code"], UNITS[1]["org_code"]


@dataclass(frozen=True)
class Move:
    action: str
    party: str  # applicant, unit, department, office or committee
    gap: int  # working days since the move before it (for a result: after the publicity)


# Every move of a case that passes, in order; a case stops after its plan's `last` move.
MOVES = (
    Move("submit", "applicant", 2),  # after opening the case
    Move("approve", "unit", 2),
    Move("start_pre_publicity", "unit", 1),
    Move("record_pre_publicity_result", "unit", 1),
    Move("submit_to_department", "unit", 1),
    Move("accept", "department", 2),
    Move("grant_pre_approval", "office", 2),  # only a case that needs pre-approval
    Move("print_declaration_form", "unit", 1),
    Move("forward_to_committee", "department", 2),
    Move("pass_review", "committee", 3),
    Move("launch_post_publicity", "department", 2),
    Move("start_post_publicity", "unit", 1),
    Move("record_post_publicity_result", "unit", 1),
    Move("confirm", "department", 2),
)
PUBLICITY_STARTS = {"start_pre_publicity": "pre", "start_post_publicity": "post"}
PUBLICITY_RESULTS = {"record_pre_publicity_result": "pre", "record_post_publicity_result": "post"}


@dataclass(frozen=True)
class Plan:
    """One demo case: who, for what, how far it goes and its applicant's materials."""

    username: str
    last: str  # the last move it makes ("open": a draft)
    days_ago: int  # working days since that move
    qualification: str
    committee: str
    education: tuple[str, str, str, str]  # 学历, 毕业院校, 专业, 毕业时间
    title: tuple[str, str] | None  # 现专业技术资格 and the day it was obtained
    position: str
    jobs: tuple[tuple[str, str, str, str], ...]  # from, to (YYYY-MM or 至今), employer, role
    achievements: tuple[tuple[str, str, int, str], ...]  # kind, title, year, note
    review_type: str = "ptsb"
    partial: bool = False  # a draft with some sections and no scans yet


NS = UNITS[0]["name"]
PLANS = (
    Plan(
        "yf0815", "open", 2, "gc-fg", "cmte-qg-gj",
        ("硕士研究生", "华南理工大学", "计算机应用技术", "2013-06-30"), ("工程师", "2017-12-20"),
        "软件研发部高级工程师",
        (("2013-07", "2016-03", "深圳市华信软件有限公司", "软件工程师"),
         ("2016-04", "至今", NS, "高级工程师")),
        (), partial=True,
    ),
    Plan(
        "liuyang01", "submit", 1, "gc-zj", "cmte-sl-zj",
        ("大学本科", "河海大学", "水利水电工程", "2014-06-30"), ("助理工程师", "2016-12-30"),
        "项目工程师",
        (("2014-07", "2018-06", "广东省水利电力勘测设计研究院", "技术员"),
         ("2018-07", "至今", NS, "项目工程师")),
        (("项目", "深圳湾片区排涝泵站改造工程设计", 2022, "主要设计人"),
         ("论文", "城市内涝防治中泵站调度方式的探讨", 2023, "《广东水利水电》第一作者")),
    ),
    Plan(
        "chenjing02", "submit", 3, "da-zj", "cmte-da-zj",
        ("大学本科", "武汉大学", "档案学", "2010-06-30"), ("助理馆员", "2013-10-15"),
        "综合办公室档案管理员",
        (("2010-07", "2014-12", "武汉市江汉区档案馆", "档案员"),
         ("2015-01", "至今", NS, "档案管理员")),
        (("项目", "企业科技档案数字化管理系统建设", 2021, "项目负责人"),
         ("论文", "科技型企业电子文件归档实践", 2022, "《中国档案》")),
    ),
    Plan(
        "huangzq03", "approve", 1, "gc-fg", "cmte-qg-gj",
        ("硕士研究生", "华南理工大学", "轻工技术与工程", "2008-06-30"), ("工程师", "2012-12-20"),
        "研发中心副主任",
        (("2008-07", "至今", NS, "研发工程师、研发中心副主任"),),
        (("专利", "一种可降解食品包装膜的制备方法", 2021, "发明专利，第一发明人"),
         ("获奖", "深圳市科技进步奖三等奖", 2023, "排名第二"),
         ("论文", "生物基包装材料阻隔性能研究", 2020, "《包装工程》第一作者")),
    ),
    Plan(
        "zhouting04", "approve", 2, "gc-zj", "cmte-shhg-zj",
        ("硕士研究生", "中南大学", "化学工程与技术", "2016-06-30"), ("助理工程师", "2017-11-30"),
        "工艺工程师",
        (("2016-07", "至今", NS, "工艺工程师"),),
        (("项目", "精细化工中间体连续化生产工艺优化", 2023, "主要完成人"),),
    ),
    Plan(
        "wuhao05", "start_pre_publicity", 6, "gc-fg", "cmte-qg-gj",
        ("大学本科", "南昌大学", "机械设计制造及其自动化", "2008-06-30"),
        ("工程师", "2014-12-26"), "生产技术部经理",
        (("2008-07", "2013-05", "江西洪都机械有限公司", "技术员"),
         ("2013-06", "至今", NS, "生产技术部经理")),
        (("项目", "纸品包装自动化生产线改造", 2022, "项目负责人"),
         ("专利", "一种纸箱自动折边装置", 2021, "实用新型专利")),
    ),
    Plan(
        "zhenglj06", "start_pre_publicity", 8, "da-cj", "cmte-da-zj",
        ("大学专科", "厦门城市职业学院", "文秘（档案管理方向）", "2016-06-30"), None,
        "档案员",
        (("2016-07", "至今", NS, "档案员"),),
        (("其他", "公司年度档案整理归档工作", 2024, "获公司先进个人"),),
    ),
    Plan(
        "sunjh07", "record_pre_publicity_result", 2, "gc-zg", "cmte-qg-gj",
        ("博士研究生", "哈尔滨工业大学", "材料科学与工程", "2005-06-30"),
        ("高级工程师", "2013-12-30"), "总工程师",
        (("2005-07", "2011-08", "中国科学院深圳先进技术研究院", "助理研究员"),
         ("2011-09", "至今", NS, "技术总监、总工程师")),
        (("项目", "广东省重点领域研发计划“高性能生物基材料”课题", 2022, "课题负责人"),
         ("获奖", "广东省科学技术奖二等奖", 2021, "排名第一"),
         ("专利", "一种高阻隔多层复合薄膜及其制备方法", 2019, "发明专利，第一发明人"),
         ("论文", "Barrier properties of bio-based multilayer films", 2020, "SCI收录，通讯作者")),
    ),
    Plan(
        "linxf08", "submit_to_department", 1, "gc-fg", "cmte-qg-gj",
        ("大学本科", "广东工业大学", "包装工程", "2006-06-30"), ("工程师", "2012-12-20"),
        "包装研发部经理",
        (("2006-07", "2010-12", "深圳市裕同包装科技股份有限公司", "包装设计师"),
         ("2011-01", "至今", NS, "包装研发部经理")),
        (("项目", "电子产品环保缓冲包装研发", 2023, "项目负责人"),
         ("专利", "一种蜂窝纸板缓冲结构", 2022, "实用新型专利，第一发明人")),
    ),
    Plan(
        "hexm09", "accept", 2, "gc-fg", "cmte-qg-gj",
        ("博士研究生", "四川大学", "高分子材料与工程", "2017-06-30"), ("工程师", "2019-12-30"),
        "新材料研究所所长",
        (("2017-07", "至今", NS, "研究员、新材料研究所所长"),),
        (("项目", "国家重点研发计划子课题“可循环包装材料”", 2023, "子课题负责人"),
         ("论文", "Recyclable polyester packaging films", 2022, "SCI一区，第一作者"),
         ("专利", "一种可循环聚酯包装膜", 2024, "发明专利，第一发明人")),
        review_type="cxxrc",
    ),
    Plan(
        "guowei10", "accept", 1, "gc-zj", "cmte-sl-zj",
        ("大学本科", "郑州大学", "给排水科学与工程", "2013-06-30"), ("助理工程师", "2015-12-30"),
        "给排水设计师",
        (("2013-07", "至今", NS, "给排水设计师"),),
        (("项目", "南山区雨污分流管网工程施工图设计", 2021, "专业负责人"),),
    ),
    Plan(
        "luomin11", "accept", 3, "gc-fg", "cmte-qg-gj",
        ("硕士研究生", "广西大学", "食品科学与工程", "2010-06-30"), ("工程师", "2015-12-25"),
        "质量控制部经理",
        (("2010-07", "2014-02", "广西南宁糖业股份有限公司", "质检工程师"),
         ("2014-03", "至今", NS, "质量控制部经理")),
        (("项目", "食品接触材料质量追溯体系建设", 2022, "项目负责人"),
         ("论文", "食品包装中迁移物检测方法比较", 2021, "《食品科学》第一作者")),
    ),
    Plan(
        "lianggd12", "print_declaration_form", 2, "gc-fg", "cmte-qg-gj",
        ("大学本科", "华南理工大学", "印刷工程", "2004-06-30"), ("工程师", "2010-12-20"),
        "印刷工艺主管",
        (("2004-07", "2009-09", "深圳市雅昌艺术印刷有限公司", "印刷工艺员"),
         ("2009-10", "至今", NS, "印刷工艺主管")),
        (("项目", "绿色印刷油墨替代工艺研究", 2020, "主要完成人"),
         ("获奖", "中国包装联合会科技进步奖", 2022, "排名第三")),
    ),
    Plan(
        "xieyx13", "forward_to_committee", 3, "gc-fg", "cmte-qg-gj",
        ("硕士研究生", "陕西科技大学", "轻化工程", "2013-06-30"), ("工程师", "2016-12-30"),
        "技术开发部主任工程师",
        (("2013-07", "至今", NS, "技术开发部主任工程师"),),
        (("专利", "一种低VOC水性胶黏剂", 2023, "发明专利，第一发明人"),
         ("论文", "水性胶黏剂在纸塑复合中的应用", 2021, "《中国造纸》第一作者")),
    ),
    Plan(
        "songjm14", "launch_post_publicity", 2, "gc-fg", "cmte-qg-gj",
        ("大学本科", "山东大学", "机械工程", "2009-06-30"), ("工程师", "2014-12-30"),
        "设备工程部经理",
        (("2009-07", "2012-06", "济南二机床集团有限公司", "设备工程师"),
         ("2012-07", "至今", NS, "设备工程部经理")),
        (("项目", "全自动吹膜生产线引进与国产化改造", 2021, "项目负责人"),
         ("专利", "一种薄膜收卷张力控制装置", 2020, "实用新型专利")),
    ),
    Plan(
        "tanghui15", "start_post_publicity", 6, "da-zj", "cmte-da-zj",
        ("硕士研究生", "南京大学", "档案学", "2015-06-30"), ("助理馆员", "2016-12-30"),
        "档案室主任",
        (("2015-07", "至今", NS, "档案员、档案室主任"),),
        (("项目", "企业档案管理制度体系修订", 2022, "项目负责人"),
         ("论文", "数字化转型背景下企业档案的价值挖掘", 2023, "《档案学研究》第一作者")),
    ),
    Plan(
        "gaobq01", "confirm", 3, "gc-fg", "cmte-qg-gj",
        ("大学本科", "江南大学", "轻化工程", "2007-06-30"), ("工程师", "2013-12-20"),
        "产品质量部主管",
        (("2007-07", "至今", NS, "质量工程师、产品质量部主管"),),
        (("项目", "纸塑复合包装质量控制体系建设", 2021, "项目负责人"),
         ("论文", "纸塑复合材料剥离强度影响因素分析", 2022, "《包装工程》第一作者")),
    ),
    Plan(
        "yf0809", "open", 1, "zx-zj", "cmte-zx6-zj",
        ("大学本科", "华南师范大学", "汉语言文学", "2012-06-30"), ("中学二级教师", "2014-09-01"),
        "初中语文教师",
        (("2012-09", "至今", UNITS[1]["name"], "语文教师、年级组长"),),
        (("论文", "初中语文整本书阅读教学策略", 2023, "《语文建设》"),
         ("获奖", "福田区青年教师教学能手", 2022, "一等奖")),
    ),
)  # fmt: skip

EVALUATIONS = (
    "该同志政治立场坚定，爱岗敬业，专业基础扎实，近年来主持完成多项重点项目，业绩突出，"
    "同意推荐申报。",
    "该同志工作认真负责，团队协作意识强，能独立解决本专业复杂技术问题，成果显著，同意推荐。",
    "该同志遵纪守法，专业技术水平较高，在本岗位上做出了突出贡献，群众评价良好，同意推荐申报。",
)
PUBLICITY = {"method": "单位公示栏及内部网站公示"}
NO_OBJECTION = {"passed": True, "feedback": "公示期间无异议"}


class DemoCasesFailed(RuntimeError):
    pass


# --- when each move happens --------------------------------------------------------------


def _working_day_back(day: date, n: int) -> date:
    """The working day n working days before `day` (n=0: `day`, or the one before if it rests)."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    for _ in range(n):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return day


def _publicity_start(before: date, working_days: int) -> date:
    """The latest working day whose publicity of `working_days` is over by `before`."""
    day = before - timedelta(days=1)
    while not (is_working_day(day) and publicity_period(day, working_days)[1] < before):
        day -= timedelta(days=1)
    return day


def history_ends(today: date) -> date:
    """The day the demo's history runs up to: today, or in a year whose holidays nobody knows
    yet (a fresh demo has no entries, and the package may not have the year) the first day of
    the first such year, so that every publicity of the demo lies in known years."""
    year = today.year
    while not package_knows(year) and year > 2004:
        year -= 1
    return min(today, date(year + 1, 1, 1))


def moves_of(plan: Plan, needs_pre_approval: bool) -> list[Move]:
    if plan.last == "open":
        return []
    moves = [m for m in MOVES if needs_pre_approval or m.action != "grant_pre_approval"]
    return moves[: [m.action for m in moves].index(plan.last) + 1]


def schedule(moves: list[Move], days_ago: int, today: date, days: dict[str, int]) -> list[date]:
    """The day the case is opened, then the day of each move: working days, all before today,
    a publicity result after its period and a publicity left open already over."""
    last = _working_day_back(today - timedelta(days=1), days_ago - 1)
    if moves and moves[-1].action in PUBLICITY_STARTS:
        last = min(last, _publicity_start(today, days[PUBLICITY_STARTS[moves[-1].action]]))
    dates = [last]
    for move in reversed(moves):
        later = dates[0]
        if move.action in PUBLICITY_RESULTS:
            dates.insert(0, _publicity_start(later, days[PUBLICITY_RESULTS[move.action]]))
        else:
            dates.insert(0, _working_day_back(later, move.gap))
    return dates


# --- scans -------------------------------------------------------------------------------


def _font_file(bold: bool) -> tuple[str, int] | None:
    """The installed Noto Sans CJK (fonts-noto-cjk), or None: the scans then carry no text."""
    found = installed_font("Noto Sans CJK SC", "Bold" if bold else "Regular")
    return found if found and "CJK" in found[0] else None


@cache
def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    found = _font_file(bold)
    return ImageFont.truetype(found[0], size, index=found[1]) if found else None


def scan(title: str, lines: list[str], pdf: bool = False) -> bytes:
    """A sample scan: a card with a title, a few lines and 演示样张 (PNG, or PDF)."""
    from PIL import Image, ImageDraw

    width, height = (842, 595) if pdf else (640, 404)
    ink, frame = (38, 42, 52), (29, 79, 145)
    image = Image.new("RGB", (width, height), (246, 244, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, width - 11, height - 11), outline=frame, width=4)
    draw.rectangle((22, 22, width - 23, height - 23), outline=frame, width=1)
    heading, text, stamp = _font(34, bold=True), _font(20), _font(28, bold=True)
    if heading is not None:
        draw.text((width // 2, 70), title, fill=frame, font=heading, anchor="mm")
        for row, line in enumerate(lines):
            draw.text((60, 130 + 36 * row), line, fill=ink, font=text)
        draw.text(
            (width - 60, height - 60), "演示样张", fill=(200, 40, 40), font=stamp, anchor="rs"
        )
    else:
        for row in range(len(lines)):
            draw.line((60, 140 + 36 * row, width - 60, 140 + 36 * row), fill=ink, width=2)
    out = io.BytesIO()
    if pdf:
        image.save(out, "PDF", resolution=100)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def _cn_date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{year}年{int(month)}月{int(day)}日"


def scans_of(plan: Plan, person: dict, unit_name: str) -> list[tuple[str, str, bytes]]:
    """(category, file name, content) of the scans a complete case needs."""
    name, id_number = person["name"], person["id_number"] or ""
    level, school, major, graduated = plan.education
    birth = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
    found = [
        (
            "id_card",
            f"{name}身份证.png",
            scan(
                "居民身份证",
                [
                    f"姓名　{name}",
                    f"性别　{person['gender'] or ''}　　民族　汉",
                    f"出生　{_cn_date(birth)}",
                    "住址　广东省深圳市",
                    f"公民身份号码　{id_number}",
                ],
            ),
        ),
        (
            "diploma",
            f"{name}学历证书.pdf",
            scan(
                "毕 业 证 书",
                [
                    f"学生 {name}，性别{person['gender'] or ''}，{_cn_date(birth)}生，",
                    f"于{_cn_date(graduated)}在本校{major}专业完成学业，",
                    f"成绩合格，准予毕业（{level}）。",
                    "",
                    f"{school}",
                ],
                pdf=True,
            ),
        ),
    ]
    if plan.title:
        found.append(
            (
                "current_title",
                f"{name}现职称证书.png",
                scan(
                    "专业技术资格证书",
                    [
                        f"姓名　{name}",
                        f"身份证号　{id_number}",
                        f"资格名称　{plan.title[0]}",
                        f"取得时间　{_cn_date(plan.title[1])}",
                        "发证机关　深圳市人力资源和社会保障局",
                    ],
                ),
            )
        )
    kind, title, year, note = plan.achievements[0] if plan.achievements else ("", "", 0, "")
    found.append(
        (
            "achievement",
            f"{name}业绩证明.png",
            scan(
                "业 绩 证 明",
                [
                    f"兹证明 {name} 同志在我单位工作期间，于{year}年完成{kind}：",
                    title,
                    f"（{note}），成绩显著。" if note else "成绩显著。",
                    "特此证明。",
                    unit_name,
                ],
            ),
        )
    )
    return found


def materials(plan: Plan, person: dict, opened: date) -> dict[str, dict]:
    level, school, major, graduated = plan.education
    id_number = person["id_number"] or ""
    started = plan.jobs[0][0]
    basic = {
        "name": person["name"],
        "gender": person["gender"] or "",
        "birth_date": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
        "id_number": id_number,
        "education": level,
        "school": school,
        "major": major,
        "graduated_on": graduated,
        "current_title": plan.title[0] if plan.title else "",
        "current_title_on": plan.title[1] if plan.title else None,
        "position": plan.position,
        "work_started_on": f"{started}-01",
        "years_in_field": opened.year - int(started[:4]),
    }
    work = {
        "entries": [
            {"start": start, "end": end, "employer": employer, "role": role}
            for start, end, employer, role in plan.jobs
        ]
    }
    achievements = {
        "entries": [
            {"kind": kind, "title": title, "year": year, "note": note}
            for kind, title, year, note in plan.achievements
        ]
    }
    hours = (72, 96, 84, 120, 90)
    education = {
        "hours_by_year": {
            str(opened.year - back): hours[(back + len(plan.username)) % len(hours)]
            for back in (3, 2, 1)
        }
    }
    if plan.partial:
        return {"basic": basic, "work_history": work}
    return {
        "basic": basic,
        "work_history": work,
        "achievements": achievements,
        "education": education,
    }


def approval(day: date, number: int) -> dict:
    years = range(day.year - 5, day.year)
    return {
        "negative_situation": "",
        "annual_assessments": {str(y): "优秀" if (y + number) % 4 == 0 else "合格" for y in years},
        "evaluation": EVALUATIONS[number % len(EVALUATIONS)],
        "continuing_education_opinion": "已完成本年度继续教育学时要求，同意。",
    }


# --- who the demo people are -------------------------------------------------------------


@dataclass
class Cast:
    units: dict[str, dict]  # org_code -> {id, name, operator: Actor, operator_name, applicants}
    people: dict[str, dict]  # username -> the account row
    reviewers: dict[str, Actor]  # org id -> a reviewer of that department, office or committee
    rounds: list[dict]
    pre_approval_types: set[str]  # review types whose cases go to the office


async def _read_cast(conn: asyncpg.Connection) -> Cast | None:
    """The demo units and people from the accounts schema, or None if they are not there."""
    units = {}
    for unit in UNITS:
        row = await conn.fetchrow(
            "SELECT id, name FROM accounts.units WHERE org_code = $1", unit["org_code"]
        )
        operator = await conn.fetchrow(
            "SELECT id, name FROM accounts.users WHERE lower(username) = lower($1)"
            " AND role = 'unit_operator' AND active",
            unit["operators"][0][0],
        )
        if row is None or operator is None:
            return None
        units[unit["org_code"]] = {
            "id": row["id"],
            "name": row["name"],
            "operator": Actor(
                user_id=operator["id"],
                role="unit_operator",
                unit_id=row["id"],
                name=operator["name"],
            ),
            "operator_name": operator["name"],
        }
    people = {}
    for row in await conn.fetch(
        "SELECT id, username, name, unit_id, mobile, id_number, gender FROM accounts.users"
        " WHERE role = 'applicant' AND active AND unit_id = ANY($1::uuid[]) ORDER BY username",
        [unit["id"] for unit in units.values()],
    ):
        people[row["username"]] = opened_user(row)
    reviewers = {}
    orgs = [OFFICE[0], *COMMITTEES, *(department for _, department in COMMITTEES.values())]
    for row in await conn.fetch(
        "SELECT DISTINCT ON (org_id) id, role, org_id, name FROM accounts.users"
        " WHERE role IN ('department', 'office', 'committee') AND active AND org_id = ANY($1)"
        " ORDER BY org_id, username",
        orgs,
    ):
        reviewers[row["org_id"]] = Actor(
            user_id=row["id"], role=row["role"], org_id=row["org_id"], name=row["name"]
        )
    rounds = [
        dict(row)
        for row in await conn.fetch(
            "SELECT id, opens_on, closes_on, pre_publicity_days, post_publicity_days"
            " FROM cases.rounds WHERE active ORDER BY opens_on DESC, id DESC"
        )
    ]
    types = await conn.fetch("SELECT id FROM cases.review_types WHERE needs_pre_approval")
    return Cast(units, people, reviewers, rounds, {row["id"] for row in types})


def _person_for(cast: Cast, plan: Plan, unit_id) -> dict | None:
    """The plan's applicant; on a database whose demo predates them, a colleague instead."""
    person = cast.people.get(plan.username)
    if person is not None:
        return person
    colleagues = sorted(
        (p for p in cast.people.values() if p["unit_id"] == unit_id), key=lambda p: p["username"]
    )
    if not colleagues:
        return None
    return colleagues[PLANS.index(plan) % len(colleagues)]


@dataclass
class Scheduled:
    number: int
    plan: Plan
    person: dict
    unit: dict
    round: dict
    moves: list[Move]
    dates: list[date]  # opening, then one per move


def _schedule_all(cast: Cast, today: date) -> list[Scheduled] | str:
    """Every demo case with its dates, or why there can be none."""
    if not cast.rounds:
        return "there is no active round (评审年度)"
    scheduled = []
    for number, plan in enumerate(PLANS):
        org_code = FUTIAN if plan.username == "yf0809" else NANSHAN
        unit = cast.units[org_code]
        person = _person_for(cast, plan, unit["id"])
        if person is None:
            return f"the demo unit {unit['name']} has no applicant account"
        moves = moves_of(plan, plan.review_type in cast.pre_approval_types)
        needed = {_reviewer_org(plan, m.party) for m in moves} - {None}
        if needed - set(cast.reviewers):
            return f"no demo reviewer account for {', '.join(sorted(needed - set(cast.reviewers)))}"
        for round_row in cast.rounds:
            days = {
                "pre": round_row["pre_publicity_days"],
                "post": round_row["post_publicity_days"],
            }
            dates = schedule(moves, plan.days_ago, today, days)
            if round_row["opens_on"] <= dates[0] <= round_row["closes_on"]:
                scheduled.append(Scheduled(number, plan, person, unit, round_row, moves, dates))
                break
        else:
            return f"no active round (评审年度) is open on {dates[0]}, when {plan.username} opens"
    return scheduled


def _reviewer_org(plan: Plan, party: str) -> str | None:
    if party == "department":
        return COMMITTEES[plan.committee][1]
    if party == "office":
        return OFFICE[0]
    if party == "committee":
        return plan.committee
    return None


# --- walking the cases through the workflow ----------------------------------------------


class Walker:
    def __init__(self, client: RpcClient, clock: Clock, cast: Cast) -> None:
        self.client = client
        self.clock = clock
        self.cast = cast

    def at(self, day: date, minute: int) -> None:
        """Move the services' clock to `minute` minutes past 09:00 (Shenzhen) on `day`."""
        moment = datetime.combine(day, time(9), SHENZHEN) + timedelta(minutes=minute)
        self.clock.offset = moment.astimezone(UTC) - datetime.now(UTC)

    async def call(
        self,
        case: Scheduled,
        what: str,
        method: Method,
        params: dict,
        actor: Actor,
        attachment: bytes | None = None,
    ):
        try:
            return await self.client.invoke(method, params, actor=actor, attachment=attachment)
        except RpcError as error:
            fields = f" {error.fields}" if error.fields else ""
            raise DemoCasesFailed(
                f"demo case of {case.person['name']} ({case.plan.username}): {what} failed:"
                f" {error.message}{fields}"
            ) from error

    async def walk(self, case: Scheduled) -> str:
        plan, person = case.plan, case.person
        applicant = Actor(
            user_id=person["id"], role="applicant", unit_id=person["unit_id"], name=person["name"]
        )
        minute = (case.number * 37) % 420  # each case its own time of day, 09:00-16:00
        opened = case.dates[0]
        self.at(opened, minute)
        choices = {
            "round_id": case.round["id"],
            "review_type_id": plan.review_type,
            "qualification_id": plan.qualification,
            "committee_id": plan.committee,
            "applicant_name": person["name"],
            "applicant_mobile": person["mobile"] or "",
            "id_number": person["id_number"] or "",
            "gender": person["gender"] or "",
        }
        opened_case = await self.call(case, "case.open", cases_rpc.CASE_OPEN, choices, applicant)
        case_id = opened_case["case_id"]
        for step, (section, data) in enumerate(materials(plan, person, opened).items(), start=1):
            self.at(opened, minute + 4 * step)
            params = {"case_id": case_id, "section": section, "data": data}
            saving = cases_rpc.CASE_SAVE_SECTION
            await self.call(case, f"saving {section}", saving, params, applicant)
        if not plan.partial:
            self.at(opened, minute + 25)
            for category, filename, content in scans_of(plan, person, case.unit["name"]):
                params = {"case_id": case_id, "category": category, "filename": filename}
                upload, what = documents_rpc.FILES_UPLOAD, f"uploading {category}"
                await self.call(case, what, upload, params, applicant, attachment=content)
        state = "draft"
        for move, day in zip(case.moves, case.dates[1:], strict=True):
            self.at(day, minute + 30)
            actor = self._actor(case, move.party, applicant)
            inputs = self._inputs(case, move, day)
            if move.action == "submit":  # the applicant reads and accepts the 诚信承诺
                pledge = await self.call(case, "the pledge", PLEDGE_CURRENT, {}, applicant)
                inputs = {"pledge_version": pledge["version"]}
            params = {
                "case_id": case_id,
                "action": move.action,
                "inputs": inputs,
                "client_ip": "127.0.0.1",
            }
            moved = await self.call(case, move.action, cases_rpc.CASE_ACT, params, actor)
            state = moved["state"]
        return state

    def _actor(self, case: Scheduled, party: str, applicant: Actor) -> Actor:
        if party == "applicant":
            return applicant
        if party == "unit":
            return case.unit["operator"]
        return self.cast.reviewers[_reviewer_org(case.plan, party)]

    def _inputs(self, case: Scheduled, move: Move, day: date) -> dict:
        if move.action == "approve":
            return approval(day, case.number)
        if move.action in PUBLICITY_STARTS:
            contact = f"{case.unit['operator_name']}，电话 0755-2688 1234"
            return {**PUBLICITY, "contact": contact}
        if move.action in PUBLICITY_RESULTS:
            return NO_OBJECTION
        return {}


async def _outbox_sent(pool: asyncpg.Pool, seconds: float = 30.0) -> None:
    """Wait until the cases service published every event of the demo (to its own names)."""
    for _ in range(int(seconds * 10)):
        if not await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
            return
        await asyncio.sleep(0.1)
    raise DemoCasesFailed("the demo cases' events were not published in time")


@contextlib.asynccontextmanager
async def _decided_outside(pool):
    """The demo's cases past step 8 were decided before there were meetings: walked by the
    committees' 评审通过 as results reached outside the system, the committees' meeting rules
    are put back as they were afterwards."""
    kept = await pool.fetch("SELECT * FROM committee_meeting_rules")
    await pool.executemany(
        "INSERT INTO committee_meeting_rules (committee_id, outside_results) VALUES ($1, true)"
        " ON CONFLICT (committee_id) DO UPDATE SET outside_results = true",
        [(committee,) for committee in COMMITTEES],
    )
    try:
        yield
    finally:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM committee_meeting_rules")
            await conn.executemany(
                "INSERT INTO committee_meeting_rules (committee_id, basis, min_members,"
                " max_members, outside_results) VALUES ($1, $2, $3, $4, $5)",
                [tuple(r.values()) for r in kept],
            )


async def load_demo_cases(settings: Settings) -> int:
    """Create the demo cases unless a demo unit has cases already; returns how many."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        cast = await _read_cast(conn)
        if cast is None:
            log.info("demo cases: the demo accounts are not there; none created")
            return 0
        unit_ids = [unit["id"] for unit in cast.units.values()]
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM cases.cases WHERE unit_id = ANY($1::uuid[]))", unit_ids
        ):
            return 0
    finally:
        await conn.close()
    today = Clock().today()
    if (ends := history_ends(today)) != today:
        log.info(
            "demo cases: %d has no holiday schedule yet; their history ends on %s", today.year, ends
        )
    scheduled = _schedule_all(cast, ends)
    if isinstance(scheduled, str):
        log.warning("demo cases: none created: %s", scheduled)
        return 0

    own = settings.model_copy(
        update={"broker_prefix": f"{settings.broker_prefix}-demo-{secrets.token_hex(3)}"}
    )
    clock = Clock()
    cases = build_cases(own, CasesDeps(clock=clock))
    # Nothing is rendered: one lazy worker, and no print jobs taken (any queued are the system's).
    light = DocumentsDeps(
        render=RenderSettings(workers=1, warm=False), jobs=JobSettings(jobs_at_once=0)
    )
    documents = build_documents(own, light)
    client = RpcClient(own.amqp_url, Names(own).rpc_queue, 30.0)
    started = []
    try:
        for service in (cases, documents):
            await service.start()
            started.append(service)
        await client.start()
        walker = Walker(client, clock, cast)
        async with _decided_outside(cases.pool):
            for case in scheduled:
                await walker.walk(case)
        await _outbox_sent(cases.pool)
    except DemoCasesFailed as error:
        raise DemoCasesFailed(
            f"{error} (the demo cases made so far are kept; start from an empty database to"
            " load them all)"
        ) from error
    finally:
        await client.close()
        for service in reversed(started):
            await service.stop()
        await delete_prefix(own)
    return len(scheduled)
