"""Bench data for bench.printing: one unit's 3,000 cases in 评前公示 and 200 awaiting their
评审（申报）表, loaded with COPY in the shape the cases service writes them.

    python -m bench._printing_data            # data only, into the bench database

Into a database of its own (`database_url()`: `ZC_BENCH_PRINT_DATABASE_URL`, else the
database of `ZC_DATABASE_URL` with `_print` added, default .../zhicheng_bench_print; the
name must contain "bench"): drops the service schemas (accounts, cases, documents, notify),
applies every migration and seeds the reference data (bench._workflow_data.reset_schemas,
tools.demo_data), then loads

- accounts: the unit (accounts.units) and its unit_operator (accounts.users);
- cases: ROSTERS x ROSTER_CASES in pre_publicity, all in one publicity period, so that any
  selection of them prints as one roster (three selections of 1,000: the bench prints a
  1,000-person roster three times, each a new render); FORM_CASES in form_print_ready
  (publicity passed, accepted by the department). Each case has the four sections an
  applicant fills in (basic, work_history, achievements, education), its scans in
  case_attachments, the unit's approval, a case_history row for every move it went through
  (submit, approve, start_pre_publicity, ... accept) and its case_done rows.

The same seed gives the same rows (ids included), so every run prints the same documents.
"""

import asyncio
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench._workflow_data import (
    CASE_COLUMNS,
    DONE_COLUMNS,
    GIVEN,
    HISTORY_COLUMNS,
    SURNAMES,
    approval_inputs,
    check_bench_database,
    done_lists,
    done_row,
    reset_schemas,
)
from services.cases.domain.calendar import add_working_days, publicity_period
from services.cases.domain.model import ARROW, Action, CaseState
from services.cases.reference_seed import seed_reference
from tools.demo_data import COMMITTEE_QUALIFICATIONS, COMMITTEES, SERIES, demo_reference
from tools.personal_data import seal_written

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/zhicheng_bench_print"
ROSTERS, ROSTER_CASES, FORM_CASES = 3, 1000, 200
UNIT_NAME = "深圳市南山区智能制造研究院有限公司"
S, A = CaseState, Action
BUILT_CASE_COLUMNS = [*CASE_COLUMNS, "done_lists"]  # a built case's row: with its 已办 bits

SCHOOLS = ("深圳大学", "华南理工大学", "哈尔滨工业大学（深圳）", "中山大学", "南方科技大学",
           "广东工业大学", "武汉大学", "华中科技大学")  # fmt: skip
MAJORS = ("机械设计制造及其自动化", "电子信息工程", "计算机科学与技术", "土木工程",
          "化学工程与工艺", "档案学", "汉语言文学", "体育教育", "水利水电工程")  # fmt: skip
EDUCATION = ("博士研究生", "硕士研究生", "大学本科", "大学本科", "大学本科", "大学专科")
EMPLOYERS = ("深圳市华强电子有限公司", "中国科学院深圳先进技术研究院", UNIT_NAME,
             "深圳市南山区第二实验学校", "深圳市水务规划设计院股份有限公司")  # fmt: skip
ROLES = ("助理工程师", "工程师", "项目负责人", "研发部主任工程师", "技术骨干")
ACHIEVEMENTS = (
    ("论文", "基于机器视觉的精密装配误差补偿方法研究", "《机械工程学报》，第一作者"),
    ("项目", "深圳市科技计划项目：柔性电子产线智能检测系统", "项目负责人，已通过验收"),
    ("专利", "一种多轴机械臂的标定装置及方法", "发明专利，第一发明人"),
    ("获奖", "深圳市科学技术进步奖二等奖", "排名第二"),
    ("论文", "城市供水管网漏损智能诊断模型", "《给水排水》，通讯作者"),
    ("其他", "企业技术标准《精密装配检测规范》", "主要起草人"),
)
SCANS = (("id_card", "身份证正反面.pdf"), ("diploma", "毕业证书.jpg"),
         ("current_title", "现职称资格证书.pdf"), ("achievement", "业绩证明材料.pdf"))  # fmt: skip


def database_url() -> str:
    explicit = os.environ.get("ZC_BENCH_PRINT_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("ZC_DATABASE_URL")
    if not base:
        return DEFAULT_DATABASE
    parts = urlsplit(base)
    name = parts.path.lstrip("/")
    return urlunsplit(
        parts._replace(path="/" + (name if name.endswith("_print") else name + "_print"))
    )


@dataclass
class PrintData:
    database_url: str
    unit_id: uuid.UUID
    unit_name: str
    operator_id: uuid.UUID
    rosters: list[list[uuid.UUID]]  # pre_publicity, ROSTER_CASES each, in case number order
    form_ids: list[uuid.UUID]  # form_print_ready, in case number order
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _lower_titles() -> dict[str, str]:
    """The title one level below each qualification (what an applicant holds now)."""
    lower = {}
    for _name, qualifications in SERIES.values():
        for i, (qid, _qname, _level) in enumerate(qualifications):
            lower[qid] = qualifications[i + 1][1] if i + 1 < len(qualifications) else ""
    return lower


def _label(action: Action, state: CaseState) -> str:
    return f"{action.done}{ARROW}{state.label}"


class Builder:
    def __init__(self, seed: int, now: datetime, unit_id: uuid.UUID, operator_id: uuid.UUID):
        self.rng = random.Random(seed)
        self.now = now
        self.today = now.date()
        self.unit_id = unit_id
        self.operator_id = operator_id
        self.round_id = "2026" if self.today.year == 2026 else str(self.today.year)
        self.serial = 0
        self.lower = _lower_titles()
        self.tracks = [
            (qid, committee_id, COMMITTEES[committee_id][1])
            for committee_id, qids in COMMITTEE_QUALIFICATIONS.items()
            for qid in qids
        ]
        self.approval = approval_inputs(self.today)
        start, end = publicity_period(self.today - timedelta(days=3), 5)
        self.roster_period = self._period(start, end, None)
        start, end = publicity_period(self.today - timedelta(days=40), 5)
        self.form_period = self._period(start, end, True)
        self.cases: list[tuple] = []
        self.sections: list[tuple] = []
        self.attachments: list[tuple] = []
        self.history: list[tuple] = []
        self.done: list[tuple] = []

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    @staticmethod
    def _period(start: date, end: date, passed: bool | None) -> dict:
        return {
            "start": start.isoformat(), "end": end.isoformat(),
            "method": "单位内部公告栏及内部网站", "contact": "人力资源部 李老师 0755-86001234",
            "passed": passed, "feedback": "公示期间未收到异议。" if passed else None,
        }  # fmt: skip

    def _name(self) -> str:
        rng = self.rng
        surname = "欧阳" if rng.random() < 0.02 else rng.choice(SURNAMES)
        return surname + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))

    def _materials(self, case_id: uuid.UUID, name: str, qid: str, at: datetime) -> None:
        rng = self.rng
        born = date(rng.randrange(1965, 1996), rng.randrange(1, 13), rng.randrange(1, 29))
        graduated = date(born.year + 22, 7, 1)
        current = self.lower[qid]
        basic = {
            "name": name, "gender": rng.choice("男女"), "birth_date": born.isoformat(),
            "id_number": f"440305{born:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}",
            "education": rng.choice(EDUCATION), "school": rng.choice(SCHOOLS),
            "major": rng.choice(MAJORS), "graduated_on": graduated.isoformat(),
            "current_title": current,
            "current_title_on": date(graduated.year + 6, 12, 20).isoformat() if current else None,
            "position": rng.choice(ROLES),
            "work_started_on": date(graduated.year, 8, 1).isoformat(),
            "years_in_field": min(60, self.today.year - graduated.year), "exemptions": [],
        }  # fmt: skip
        jobs = rng.randrange(2, 5)  # the last one at this unit, until now
        years = [
            graduated.year + (self.today.year - graduated.year) * i // jobs for i in range(jobs)
        ]
        entries = [
            {
                "start": f"{year}-{'08' if i == 0 else '03'}",
                "end": "至今" if i == jobs - 1 else f"{years[i + 1]}-02",
                "employer": UNIT_NAME if i == jobs - 1 else rng.choice(EMPLOYERS),
                "role": ROLES[min(i, len(ROLES) - 1)],
            }
            for i, year in enumerate(years)
        ]
        achievements = [
            {
                "kind": kind,
                "title": title,
                "year": rng.randrange(2015, self.today.year),
                "note": note,
            }
            for kind, title, note in rng.sample(ACHIEVEMENTS, rng.randrange(2, 6))
        ]
        years = range(self.today.year - 5, self.today.year)
        education = {"hours_by_year": {str(y): rng.randrange(72, 121) for y in years}}
        for section, data in (("basic", basic), ("work_history", {"entries": entries}),
                              ("achievements", {"entries": achievements}),
                              ("education", education)):  # fmt: skip
            self.sections.append((case_id, section, json.dumps(data, ensure_ascii=False), at))
        for category, filename in SCANS:
            if category == "current_title" and not current:
                continue
            self.attachments.append((
                self._uuid(), case_id, category, self._uuid(), filename,
                "application/pdf" if filename.endswith(".pdf") else "image/jpeg",
                rng.randrange(200_000, 2_000_000), f"{rng.getrandbits(256):064x}",
                self.operator_id, at,
            ))  # fmt: skip

    def case(self, state: CaseState) -> uuid.UUID:
        """One case of the unit that went the happy path as far as `state`."""
        rng = self.rng
        self.serial += 1
        case_id, applicant_id = self._uuid(), self._uuid()
        qid, committee_id, department_id = rng.choice(self.tracks)
        name = self._name()
        form = state is S.FORM_PRINT_READY
        moves = [
            (A.SUBMIT, "applicant", applicant_id, S.DRAFT, S.UNIT_REVIEW, {}),
            (A.APPROVE, "unit_operator", self.operator_id, S.UNIT_REVIEW,
             S.PRE_PUBLICITY_READY, self.approval),
        ]  # fmt: skip
        period = self.form_period if form else self.roster_period
        start_inputs = {
            "start": period["start"], "method": period["method"], "contact": period["contact"],
            "period": {"start": period["start"], "end": period["end"], "working_days": 5},
        }  # fmt: skip
        moves.append((A.START_PRE_PUBLICITY, "unit_operator", self.operator_id,
                      S.PRE_PUBLICITY_READY, S.PRE_PUBLICITY, start_inputs))  # fmt: skip
        if form:
            moves += [
                (A.RECORD_PRE_PUBLICITY_RESULT, "unit_operator", self.operator_id,
                 S.PRE_PUBLICITY, S.DEPT_SUBMIT_READY,
                 {"passed": True, "feedback": period["feedback"]}),
                (A.SUBMIT_TO_DEPARTMENT, "unit_operator", self.operator_id,
                 S.DEPT_SUBMIT_READY, S.DEPT_ACCEPTANCE, {}),
                (A.ACCEPT, "department", None, S.DEPT_ACCEPTANCE, S.FORM_PRINT_READY, {}),
            ]  # fmt: skip
        # submit and approve in the weeks before the publicity, the rest after it ended
        start, end = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])
        days = [start - timedelta(days=12), start - timedelta(days=8), start]
        days += [add_working_days(end, n) for n in (1, 2, 5)][: len(moves) - 3]
        times = [
            min(
                datetime(
                    d.year, d.month, d.day, 1 + rng.randrange(8), rng.randrange(60), tzinfo=UTC
                ),
                self.now - timedelta(minutes=10 * (len(days) - i)),
            )
            for i, d in enumerate(days)
        ]
        created = times[0] - timedelta(days=3)
        done = []
        for (action, role, actor, before, after, inputs), at in zip(moves, times, strict=True):
            self.history.append((
                case_id, action.value, actor, role, before.value, after.value, None,
                _label(action, after), json.dumps(inputs, ensure_ascii=False), None, at,
            ))  # fmt: skip
            done_list = {A.APPROVE: "unit:3", A.START_PRE_PUBLICITY: "unit:4",
                         A.RECORD_PRE_PUBLICITY_RESULT: "unit:5", A.SUBMIT_TO_DEPARTMENT: "unit:6",
                         A.ACCEPT: "department:acceptance"}.get(action)  # fmt: skip
            if done_list:
                party = department_id if role == "department" else str(self.unit_id)
                done.append((party, done_list, at))
        last = moves[-1][0]
        self.cases.append((
            case_id, f"{self.round_id}{self.serial:06d}", self.unit_id, applicant_id, name,
            f"139{rng.randrange(10**8):08d}", self.round_id, "ptsb", qid, committee_id,
            department_id, False, [], state.value, None, len(moves), last.value, None,
            _label(last, state), json.dumps(self.approval, ensure_ascii=False),
            json.dumps(period, ensure_ascii=False), None, None, form, False, False,
            created, times[-1],
        ))  # fmt: skip
        entries = [done_row(self.cases[-1], *entry) for entry in done]
        self.done += entries
        self.cases[-1] += (done_lists(entries),)  # BUILT_CASE_COLUMNS
        self._materials(case_id, name, qid, times[0] - timedelta(days=1))
        return case_id


async def generate(
    database_url: str,
    rosters: int = ROSTERS,
    roster: int = ROSTER_CASES,
    forms: int = FORM_CASES,
    seed: int = 1,
    say=print,
) -> PrintData:
    check_bench_database(database_url)
    seconds = {}
    started = time.perf_counter()
    applied = await reset_schemas(database_url)
    seconds["migrate"] = round(time.perf_counter() - started, 2)
    say(f"  schemas dropped; {len(applied)} migrations applied ({seconds['migrate']:.1f} s)")

    started = time.perf_counter()
    rng = random.Random(seed)
    unit_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    operator_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    now = datetime.now(UTC)
    builder = Builder(seed, now, unit_id, operator_id)
    selections = [[builder.case(S.PRE_PUBLICITY) for _ in range(roster)] for _ in range(rosters)]
    form_ids = [builder.case(S.FORM_PRINT_READY) for _ in range(forms)]
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "cases"})
    try:
        await seed_reference(conn, demo_reference())
        await conn.execute(
            "INSERT INTO accounts.units (id, org_code, name, si_unit_no, source)"
            " VALUES ($1, 'BENCHPRT1', $2, 'SI00000001', 'local')",
            unit_id,
            UNIT_NAME,
        )
        await conn.execute(
            "INSERT INTO accounts.users (id, username, password_hash, role, unit_id, name)"
            " VALUES ($1, 'bench_print_op', '!', 'unit_operator', $2, '经办人')",
            operator_id,
            unit_id,
        )
        await conn.copy_records_to_table("cases", columns=BUILT_CASE_COLUMNS, records=builder.cases)
        await conn.copy_records_to_table(
            "case_sections",
            columns=["case_id", "section", "data", "updated_at"],
            records=builder.sections,
        )
        await conn.copy_records_to_table(
            "case_attachments",
            columns=["id", "case_id", "category", "file_id", "filename", "content_type",
                     "size_bytes", "checksum", "uploaded_by", "uploaded_at"],
            records=builder.attachments,
        )  # fmt: skip
        await conn.copy_records_to_table(
            "case_history", columns=HISTORY_COLUMNS, records=builder.history
        )
        await conn.copy_records_to_table("case_done", columns=DONE_COLUMNS, records=builder.done)
        await conn.execute("SELECT setval('case_numbers', $1)", builder.serial)
        await seal_written(conn, "cases")  # as the cases service keeps them
        for table in ("cases", "case_sections", "case_attachments", "case_history", "case_done"):
            await conn.execute(f"VACUUM ANALYZE cases.{table}")
    finally:
        await conn.close()
    seconds["load"] = round(time.perf_counter() - started, 2)
    rows = {
        "cases": len(builder.cases), "sections": len(builder.sections),
        "attachments": len(builder.attachments), "history": len(builder.history),
        "case_done": len(builder.done),
    }  # fmt: skip
    say(f"  loaded {', '.join(f'{n:,} {k}' for k, n in rows.items())} ({seconds['load']:.1f} s)")
    return PrintData(
        database_url, unit_id, UNIT_NAME, operator_id, selections, form_ids, rows, seconds
    )


def main() -> None:
    url = database_url()
    check_bench_database(url)
    print(f"database {url}")
    data = asyncio.run(generate(url))
    print(f"  unit {data.unit_id} ({data.unit_name}), operator {data.operator_id}")


if __name__ == "__main__":
    sys.exit(main())
