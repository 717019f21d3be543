"""Walk cases through the workflow over RPC, as each role would through the gateway."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from shared.rpc import Actor, RpcClient

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
APPROVAL = {
    "negative_situation": "",
    "evaluation": "工作认真负责，业绩突出。",
    "continuing_education_opinion": "已完成继续教育学时要求。",
}
BASIC = {
    "name": "张三",
    "gender": "女",
    "birth_date": "1949-12-31",
    "id_number": "11010519491231002X",
    "education": "大学本科",
    "school": "深圳大学",
    "major": "机械工程",
    "graduated_on": "1972-07-01",
    "position": "工程师",
    "work_started_on": "1972-08-01",
    "years_in_field": 30,
}


def approval(today) -> dict:
    years = {str(y): "合格" for y in range(today.year - 5, today.year)}
    return {**APPROVAL, "annual_assessments": years}


@dataclass
class Unit:
    unit_id: uuid.UUID
    operator: Actor
    applicant: Actor


def new_unit() -> Unit:
    unit_id = uuid.uuid4()
    return Unit(
        unit_id,
        Actor(user_id=uuid.uuid4(), role="unit_operator", unit_id=unit_id),
        Actor(user_id=uuid.uuid4(), role="applicant", unit_id=unit_id),
    )


def reviewer(role: str, org_id: str) -> Actor:
    return Actor(user_id=uuid.uuid4(), role=role, org_id=org_id)


DEPARTMENT = reviewer("department", "dept-gcslh")
OFFICE = reviewer("office", "office-zjc")
COMMITTEE = reviewer("committee", "cmte-qg-gj")


class CasesDriver:
    def __init__(self, client: RpcClient, cases_service, clock) -> None:
        self.client = client
        self.service = cases_service
        self.clock = clock

    async def call(
        self,
        method: str,
        params: dict,
        actor: Actor,
        service: str = "cases",
        attachment: bytes | None = None,
    ):
        return await self.client.call(service, method, params, actor=actor, attachment=attachment)

    async def open(
        self,
        unit: Unit,
        review_type: str = "ptsb",
        mobile: str = "13900000000",
        qualification: str = "gc-fg",
        committee: str = "cmte-qg-gj",
    ) -> str:
        opened = await self.call(
            "case.open",
            {
                "round_id": "2026",
                "review_type_id": review_type,
                "qualification_id": qualification,
                "committee_id": committee,
                "applicant_name": "张三",
                "applicant_mobile": mobile,
                "id_number": BASIC["id_number"],
                "gender": "女",
            },
            unit.applicant,
        )
        return opened["case_id"]

    async def complete(self, unit: Unit, case_id: str) -> None:
        """Fill every section and upload the required scans."""
        sections = {
            "basic": BASIC,
            "work_history": {
                "entries": [
                    {"start": "1972-08", "end": "至今", "employer": "深圳某公司", "role": "工程师"}
                ]
            },
            "education": {"hours_by_year": {"2025": 90}},
        }
        for section, data in sections.items():
            await self.call(
                "case.save_section",
                {"case_id": case_id, "section": section, "data": data},
                unit.applicant,
            )
        for category in ("id_card", "diploma", "achievement"):
            await self.upload(unit.applicant, case_id, category, PNG)

    async def upload(
        self, actor: Actor, case_id: str, category: str, content: bytes, filename: str = "scan.png"
    ) -> dict:
        params = {"case_id": case_id, "category": category, "filename": filename}
        return await self.call("files.upload", params, actor, "documents", attachment=content)

    async def act(self, actor: Actor, case_id: str, action: str, **inputs) -> dict:
        if action == "submit" and "pledge_version" not in inputs:
            inputs["pledge_version"] = await self.pledge_version(actor)  # as the page ticks it
        return await self.call(
            "case.act", {"case_id": case_id, "action": action, "inputs": inputs}, actor
        )

    async def pledge_version(self, actor: Actor) -> int:
        """The 诚信承诺 in force, which a submission accepts."""
        return (await self.call("pledge.current", {}, actor))["version"]

    async def submitted(self, unit: Unit, review_type: str = "ptsb") -> str:
        case_id = await self.open(unit, review_type)
        await self.complete(unit, case_id)
        await self.act(unit.applicant, case_id, "submit")
        return case_id

    async def at_department(self, unit: Unit, review_type: str = "ptsb") -> str:
        """A case submitted to the department: approved, publicised and publicity passed."""
        case_id = await self.submitted(unit, review_type)
        await self.act(unit.operator, case_id, "approve", **approval(self.clock.today()))
        await self.act(unit.operator, case_id, "start_pre_publicity")
        self.clock.offset += timedelta(days=12)
        await self.act(
            unit.operator,
            case_id,
            "record_pre_publicity_result",
            passed=True,
            feedback="公示期间无异议",
        )
        await self.act(unit.operator, case_id, "submit_to_department")
        return case_id

    async def state(self, actor: Actor, case_id: str) -> str:
        return (await self.call("case.get", {"case_id": case_id}, actor))["state"]
