"""Fixed snapshots of every document: for the tests, previews and bench/documents.py.

Deterministic (no clock, no randomness): the same call gives the same snapshot, so the same
PDF bytes.
"""

import uuid
from datetime import UTC, date, datetime

from shared.contracts.documents.snapshots import (
    Acceptance,
    Achievement,
    Approval,
    Attachment,
    Basic,
    CaseHead,
    DeclarationForm,
    ObjectionLine,
    PledgeAccepted,
    Publicity,
    PublicityReport,
    RegistrationForm,
    Roster,
    RosterPerson,
    WorkEntry,
)

UNIT = "深圳市南山区智能制造研究院有限公司"
ROUND = "2026年度"
PRE = Publicity(
    start=date(2026, 6, 1),
    end=date(2026, 6, 5),
    method="单位内部公告栏及内部网站",
    contact="人力资源部 李老师 0755-86001234",
)
POST = Publicity(
    start=date(2026, 11, 2),
    end=date(2026, 11, 6),
    method="单位公告栏及互联网",
    contact="人力资源部 李老师 0755-86001234",
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓"
    "曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "晓东",
    "子涵",
    "欣怡",
    "浩然",
)
EDUCATION = ("博士研究生", "硕士研究生", "大学本科", "大学本科", "大学专科")
# (current title, qualification declared, review type, committee)
TRACKS = (
    ("工程师", "高级工程师", "普通申报", "深圳市轻工专业高级专业技术资格评审委员会"),
    ("助理工程师", "工程师", "普通申报", "深圳市水利水电专业中级专业技术资格评审委员会"),
    ("馆员", "副研究馆员", "普通申报", "深圳市档案中级专业技术资格评审委员会"),
    ("二级教师", "中学一级教师", "普通申报", "深圳市中学教师中级专业技术资格第六评审委员会"),
    ("", "工程师", "考核认定", "深圳市石油化工专业中级专业技术资格评审委员会"),
    ("工程师", "高级工程师", "创新型人才", "深圳市轻工专业高级专业技术资格评审委员会"),
    ("助教", "讲师", "普通申报", "深圳大学教师中级专业技术资格评审委员会"),
)


def case_id(n: int) -> uuid.UUID:
    return uuid.UUID(int=0x5A_0000_0000_0000_0000_0000_0000_0000 + n)


def person(n: int) -> RosterPerson:
    current, qualification, review_type, committee = TRACKS[n % len(TRACKS)]
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]
    if n % 97 == 13:
        name = "欧阳" + GIVEN[n % len(GIVEN)] + "·Smith-Johnson"  # a long name wraps
    return RosterPerson(
        case_id=case_id(n),
        name=name,
        gender="男女"[n % 2],
        birth_date=date(1970 + n % 25, 1 + n % 12, 1 + n % 28),
        education=EDUCATION[n % len(EDUCATION)],
        current_title=current,
        qualification=qualification,
        review_type=review_type,
        committee=committee,
    )


def roster(people: int = 12, publicity: Publicity = PRE) -> Roster:
    return Roster(
        unit_name=UNIT,
        round_name=ROUND,
        publicity=publicity,
        people=[person(n) for n in range(1, people + 1)],
    )


def case_head(n: int = 1) -> CaseHead:
    p = person(n)
    return CaseHead(
        case_id=p.case_id,
        case_no=f"2026{n:06d}",
        round_name=ROUND,
        unit_name=UNIT,
        applicant_name=p.name,
        review_type=p.review_type,
        qualification=p.qualification,
        committee=p.committee,
        department="深圳市工程师联合会",
    )


def basic(n: int = 1) -> Basic:
    p = person(n)
    return Basic(
        name=p.name,
        gender=p.gender,
        birth_date=p.birth_date,
        id_number="11010519491231002X",
        education=p.education,
        school="华南理工大学",
        major="机械设计制造及其自动化",
        graduated_on=date(2008, 7, 1),
        current_title=p.current_title,
        current_title_on=date(2016, 12, 20) if p.current_title else None,
        position="研发部主任工程师",
        work_started_on=date(2008, 8, 1),
        years_in_field=17,
        exemptions=["计算机免考"] if n % 3 == 0 else [],
    )


def registration(n: int = 1) -> RegistrationForm:
    return RegistrationForm(**_case_materials(n))


PLEDGE = PledgeAccepted(
    version=1,
    text=(
        "本人郑重承诺：\n"
        "一、本人所填报的个人信息、学历资历、工作经历、业绩成果等申报材料及所提交的证明材料均"
        "真实、准确、完整，不存在弄虚作假、伪造变造等情形；\n"
        "二、本人遵守职称评审的各项纪律，不以任何方式干扰评审工作；\n"
        "三、如有虚假，本人愿意接受取消评审资格、撤销已取得的职称等处理，并按规定记入职称申报"
        "失信记录，记录期内不得申报职称。"
    ),
    accepted_at=datetime(2026, 5, 20, 1, 30, tzinfo=UTC),
    client_ip="203.0.113.5",
)
OBJECTION = ObjectionLine(
    seq=1,
    received_on=date(2026, 11, 3),
    source="社会公众提出",
    content="反映该同志申报的获奖证书颁发单位与证书所载不符。",
    status="不成立",
    finding_text="经向颁奖单位函询，证书真实有效。",
)


def declaration(n: int = 1) -> DeclarationForm:
    return DeclarationForm(
        **_case_materials(n),
        pre_publicity=PRE.model_copy(update={"passed": True, "feedback": "公示期间未收到异议。"}),
        acceptance=Acceptance(accepted_on=date(2026, 7, 10), pre_approved_on=date(2026, 7, 15)),
        pledge=PLEDGE,
    )


def report(n: int = 1, publicity: Publicity = PRE) -> PublicityReport:
    feedback = "公示期间未收到任何单位或个人的异议。"
    if n % 97 == 13:  # an objection received and looked into: a long text
        feedback = (
            "公示期间收到实名书面反映1件，反映该同志申报材料所列论文的作者排序与期刊刊载不一致。"
            "经单位人事部门会同科研管理部门核查，该文刊载于《机械工程学报》2021年第57卷第8期，"
            "申报人为第一作者兼通讯作者，申报材料所列信息属实。"
            "核查结果已于公示期满前书面答复反映人，反映人无异议。"
        )
    return PublicityReport(
        case=case_head(n),
        basic=basic(n),
        publicity=publicity.model_copy(update={"passed": True, "feedback": feedback}),
        objections=[OBJECTION] if publicity == POST else [],
    )


def _case_materials(n: int) -> dict:
    if n % 97 == 13:  # the long-named people have long materials too: forms over pages
        return _long_materials(n)
    return {
        "case": case_head(n),
        "basic": basic(n),
        "work_history": [
            WorkEntry(
                start="2008-08", end="2013-06", employer="深圳市华强电子有限公司", role="助理工程师"
            ),
            WorkEntry(
                start="2013-07",
                end="2019-12",
                employer="深圳市南山区智能制造研究院有限公司",
                role="工程师、项目负责人",
            ),
            WorkEntry(
                start="2020-01",
                end="至今",
                employer="深圳市南山区智能制造研究院有限公司",
                role="研发部主任工程师",
            ),
        ],
        "achievements": [
            Achievement(
                kind="论文",
                title="基于机器视觉的精密装配误差补偿方法研究",
                year=2021,
                note="《机械工程学报》第57卷第8期，第一作者",
            ),
            Achievement(
                kind="项目",
                title="深圳市科技计划项目：柔性电子产线智能检测系统",
                year=2022,
                note="项目负责人，已通过验收",
            ),
            Achievement(
                kind="专利",
                title="一种多轴机械臂的标定装置及方法",
                year=2023,
                note="发明专利 ZL202310123456.7，第一发明人",
            ),
            Achievement(
                kind="获奖", title="深圳市科学技术进步奖二等奖", year=2024, note="排名第二"
            ),
        ],
        "education_hours": {"2021": 96, "2022": 90, "2023": 102, "2024": 90, "2025": 92},
        "unit_approval": Approval(
            negative_situation="无负面情况",
            annual_assessments={
                "2021": "合格",
                "2022": "优秀",
                "2023": "合格",
                "2024": "优秀",
                "2025": "合格",
            },
            evaluation=(
                "该同志政治立场坚定，遵纪守法，爱岗敬业。任现职以来主持完成多项市级科研项目，"
                "在精密装配与智能检测方向取得突出成果，具备较强的技术攻关和团队组织能力，"
                f"符合申报{person(n).qualification}资格的条件，同意推荐。"
            ),
            continuing_education_opinion="已完成规定的继续教育学时，情况属实。",
            approved_on=date(2026, 5, 28),
        ),
        "attachments": [
            Attachment(category="身份证", filename="身份证正反面.pdf"),
            Attachment(category="学历证书", filename="本科毕业证书.jpg"),
            Attachment(category="现职称证书", filename="工程师资格证书.pdf"),
            Attachment(category="业绩证明", filename="科技进步奖证书.pdf"),
        ],
    }


ACHIEVEMENT_KINDS = ("论文", "项目", "专利", "获奖", "标准", "著作")


def _long_materials(n: int) -> dict:
    """A senior applicant's full materials: many entries, long names and a long evaluation."""
    p = person(n)
    materials = _case_materials(n + 1)  # an ordinary case's sections, then more of each
    employers = (
        "深圳市华强电子有限公司",
        "中国科学院深圳先进技术研究院智能仿生研究中心（深圳市精密工程重点实验室）",
        "深圳市南山区智能制造研究院有限公司",
    )
    materials["case"] = case_head(n)
    materials["basic"] = basic(n).model_copy(
        update={
            "school": "哈尔滨工业大学（深圳）机电工程与自动化学院",
            "major": "机械电子工程（精密仪器与智能制造方向）",
            "position": "研发中心副主任、首席工程师、精密装配技术研究所所长",
            "exemptions": ["计算机免考", "外语免考（博士学位）"],
        }
    )
    materials["work_history"] = [
        WorkEntry(
            start=f"{2002 + 3 * i}-0{1 + i % 9}",
            end="至今" if i == 5 else f"{2005 + 3 * i}-0{2 + i % 8}",
            employer=employers[i % len(employers)],
            role=("助理工程师", "工程师", "高级工程师、项目负责人", "研发部副主任")[i % 4],
        )
        for i in range(6)
    ]
    materials["achievements"] = [
        Achievement(
            kind=ACHIEVEMENT_KINDS[i % len(ACHIEVEMENT_KINDS)],
            title=(
                f"面向柔性电子制造的多传感器融合精密装配误差建模与在线补偿关键技术研究（{i + 1}）"
                if i % 3 == 0
                else f"高精度多轴机械臂标定与视觉伺服控制方法研究（第{i + 1}部分）"
            ),
            year=2012 + i % 14,
            note=(
                "《机械工程学报》（EI 收录），第一作者兼通讯作者；"
                "成果已在深圳市多家智能制造企业推广应用，新增产值约1.2亿元"
                if i % 4 == 0
                else "第一完成人"
            ),
        )
        for i in range(16)
    ]
    materials["education_hours"] = {str(year): 72 + year % 5 * 6 for year in range(2018, 2026)}
    materials["unit_approval"] = materials["unit_approval"].model_copy(
        update={
            "negative_situation": "无负面情况。任现职以来无违法违纪行为，无学术不端记录。",
            "evaluation": (
                "该同志政治立场坚定，遵纪守法，恪守职业道德，爱岗敬业。任现职以来长期从事精密装配"
                "与智能检测技术研究，主持完成广东省重点领域研发计划项目2项、深圳市科技计划项目4项，"
                "在多传感器融合误差建模与在线补偿方向取得系统性创新成果，获深圳市科学技术进步奖"
                "二等奖2项，授权发明专利9项。注重人才培养，指导青年科研人员12名，具备较强的技术攻关和团队组织能力，"
                f"符合申报{p.qualification}资格的条件，同意推荐。"
            ),
        }
    )
    materials["attachments"] = [
        Attachment(category=category, filename=filename)
        for category, filename in (
            ("身份证", "身份证正反面.pdf"),
            ("学历证书", "博士研究生毕业证书及学位证书（哈尔滨工业大学）.pdf"),
            ("现职称证书", f"{p.current_title}资格证书.pdf"),
            ("继续教育证明", "2018-2025年度继续教育学时证明.pdf"),
            *(
                ("业绩证明", f"业绩证明材料第{i}册（项目验收、获奖、专利证书）.pdf")
                for i in range(1, 9)
            ),
        )
    ]
    return materials
