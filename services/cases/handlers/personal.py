"""显示完整号码: one full ID number or mobile the cases service keeps, for a role that may see
it (shared/contracts/personal.py). Every answer and every refusal is in the audit trail."""

import uuid
from dataclasses import replace

from services.cases import sealed
from services.cases.scope import objection_visibility, visibility
from shared.audit import Entry, record
from shared.contracts.accounts.vocabulary import UNIT_ROLES
from shared.contracts.personal import Unmask
from shared.rpc import Actor, CallContext, RpcError

REFUSED = "不能查看该号码"
CASE_READERS = frozenset({"applicant", *UNIT_ROLES, "department", "office", "committee"})


def _case_scope(actor: Actor, roles=CASE_READERS) -> tuple[str, list]:
    """The condition on `c` under which the actor may see a case's numbers ($2 on)."""
    if actor.role == "sysadmin":
        return "true", []
    if actor.role not in roles:
        raise PermissionError
    return visibility(actor, 2)


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise PermissionError from None


async def _case(conn, actor: Actor, wanted: Unmask) -> tuple[str | None, list]:
    where, args = _case_scope(actor)
    row = await conn.fetchrow(
        "SELECT c.id, c.applicant_mobile, c.applicant_id_number, s.data->>'id_number' AS basic"
        " FROM cases c LEFT JOIN case_sections s ON s.case_id = c.id AND s.section = 'basic'"
        f" WHERE c.id = $1 AND {where}",
        _uuid(wanted.object_id),
        *args,
    )
    if row is None:
        raise PermissionError
    if wanted.field == "mobile":
        return sealed.unseal(row["applicant_mobile"], sealed.CASE_MOBILE), [row["id"]]
    basic = sealed.unseal(row["basic"], sealed.SECTION_ID_NUMBER)
    return basic or sealed.unseal(row["applicant_id_number"], sealed.CASE_ID_NUMBER), [row["id"]]


def _keeper(actor: Actor) -> str | None:
    """The committee whose experts the actor keeps (None: the sysadmin, every one)."""
    if actor.role == "sysadmin":
        return None
    if actor.role == "committee" and actor.org_id:
        return actor.org_id
    raise PermissionError


async def _expert(conn, actor: Actor, wanted: Unmask) -> tuple[str | None, list]:
    own = _keeper(actor)
    row = await conn.fetchrow(
        "SELECT committee_id, id_number, mobile FROM experts WHERE id = $1",
        _uuid(wanted.object_id),
    )
    if row is None or own not in (None, row["committee_id"]):
        raise PermissionError
    column = sealed.EXPERT_MOBILE if wanted.field == "mobile" else sealed.EXPERT_ID_NUMBER
    return sealed.unseal(row[wanted.field], column), []


async def _member(conn, actor: Actor, wanted: Unmask) -> tuple[str | None, list]:
    """A meeting member is named '<meeting id>:<library entry id>'."""
    own = _keeper(actor)
    meeting_id, _, expert_id = wanted.object_id.partition(":")
    row = await conn.fetchrow(
        "SELECT m.committee_id, mm.id_number, mm.mobile FROM meeting_members mm"
        " JOIN meetings m ON m.id = mm.meeting_id WHERE mm.meeting_id = $1 AND mm.expert_id = $2",
        _uuid(meeting_id),
        _uuid(expert_id),
    )
    if row is None or own not in (None, row["committee_id"]):
        raise PermissionError
    column = sealed.MEMBER_MOBILE if wanted.field == "mobile" else sealed.MEMBER_ID_NUMBER
    return sealed.unseal(row[wanted.field], column), []


async def _certificate(conn, actor: Actor, wanted: Unmask) -> tuple[str | None, list]:
    """Those who may revoke it (department, office in charge) and its holder."""
    where, args = _case_scope(actor, frozenset({"applicant", "department", "office"}))
    row = await conn.fetchrow(
        "SELECT x.case_id, x.id_number FROM certificates x JOIN cases c ON c.id = x.case_id"
        f" WHERE x.id = $1 AND {where}",
        _uuid(wanted.object_id),
        *args,
    )
    if row is None or wanted.field != "id_number":
        raise PermissionError
    return sealed.unseal(row["id_number"], sealed.CERTIFICATE_ID_NUMBER), [row["case_id"]]


async def _discredit(conn, actor: Actor, wanted: Unmask) -> tuple[str | None, list]:
    """Those who list it: the sysadmin, and the department that recorded it."""
    if actor.role == "department" and actor.org_id:
        keeper = actor.org_id
    elif actor.role == "sysadmin":
        keeper = None
    else:
        raise PermissionError
    row = await conn.fetchrow(
        "SELECT case_id, id_number, department_id FROM discredits WHERE id = $1",
        _uuid(wanted.object_id),
    )
    if row is None or keeper not in (None, row["department_id"]) or wanted.field != "id_number":
        raise PermissionError
    case_ids = [row["case_id"]] if row["case_id"] else []
    return sealed.unseal(row["id_number"], sealed.DISCREDIT_ID_NUMBER), case_ids


async def _objection(conn, actor: Actor, wanted: Unmask) -> tuple[str | None, list]:
    """The objector's contact (their mobile), for the department handling it."""
    if actor.role == "sysadmin":
        where, args = "true", []
    elif actor.role == "department":
        where, args = objection_visibility(actor, 2)
    else:
        raise PermissionError
    row = await conn.fetchrow(
        "SELECT o.case_id, o.objector_contact FROM objections o JOIN cases c ON c.id = o.case_id"
        f" WHERE o.id = $1 AND {where}",
        _uuid(wanted.object_id),
        *args,
    )
    if row is None or wanted.field != "mobile":
        raise PermissionError
    return sealed.unseal(row["objector_contact"], sealed.OBJECTOR_CONTACT), [row["case_id"]]


FINDERS = {
    "case": _case,
    "expert": _expert,
    "meeting_member": _member,
    "certificate": _certificate,
    "discredit": _discredit,
    "objection": _objection,
}


async def unmask(params: Unmask, ctx: CallContext) -> dict:
    details = {"field": params.field}
    entry = Entry("personal.unmask", params.object_type, params.object_id, details=details)
    finder = FINDERS.get(params.object_type)
    async with ctx.pool.acquire() as conn:
        try:
            async with conn.transaction():
                if finder is None:
                    raise PermissionError
                value, case_ids = await finder(conn, ctx.actor, params)
                if not value:
                    raise PermissionError
                done = replace(entry, case_ids=case_ids)
                await record(conn, ctx.actor, done, at=ctx.deps.clock.now())
        except (PermissionError, RpcError):
            await record(conn, ctx.actor, entry.refusal("forbidden"), at=ctx.deps.clock.now())
            raise RpcError("forbidden", REFUSED, 403) from None
    return {"value": value}
