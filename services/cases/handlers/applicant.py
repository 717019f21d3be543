"""The applicant's side: open a case, fill the materials section by section, attach scans."""

import uuid

from services.cases import statistics_store
from services.cases.discredits import check_id_numbers, normalised
from services.cases.domain.deadlines import OPENING, OutsideDeclarationWindow
from services.cases.domain.integrity import DeclarationBarred
from services.cases.domain.materials import SectionInvalid, check_section, needs_pre_approval
from services.cases.domain.model import CaseState
from services.cases.domain.scans import ScanRefused, Usage, check_new_scan
from services.cases.repository import window_of
from services.cases.sealed import (
    CASE_ID_NUMBER,
    CASE_MOBILE,
    SECTION_ID_NUMBER,
    seal,
    sealed_section,
)
from shared.contracts.cases.materials import SCAN_CATEGORIES
from shared.contracts.cases.rpc import Attach, OpenCase, RemoveAttachment, SaveSection, UploadCheck
from shared.rpc import CallContext, RpcError


def _invalid(fields: dict[str, str], message: str = "信息有误，请按提示修改") -> RpcError:
    return RpcError("invalid_input", message, 422, fields)


def _applicant(ctx: CallContext):
    actor = ctx.actor
    if actor.role != "applicant" or actor.user_id is None or actor.unit_id is None:
        raise RpcError("forbidden", "只有申报个人可以进行此操作", 403)
    return actor


async def open_case(params: OpenCase, ctx: CallContext) -> dict:
    actor = _applicant(ctx)
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _not_barred(conn, params.id_number, ctx.deps.clock.today())
        refs = await _check_choices(conn, params, ctx.deps.clock.today())
        case_id = uuid.uuid4()
        number = await conn.fetchval("SELECT nextval('case_numbers')")
        case_no = f"{params.round_id}{number:06d}"
        await conn.execute(
            "INSERT INTO cases (id, case_no, unit_id, applicant_id, applicant_name,"
            " applicant_mobile, round_id, review_type_id, qualification_id, committee_id,"
            " department_id, needs_pre_approval, state, status_label, created_at, updated_at,"
            " state_since, applicant_id_number)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $15,"
            " $16)",
            case_id,
            case_no,
            actor.unit_id,
            actor.user_id,
            params.applicant_name or "申报人",
            seal(params.applicant_mobile, CASE_MOBILE) or None,
            params.round_id,
            params.review_type_id,
            params.qualification_id,
            params.committee_id,
            refs["department_id"],
            refs["needs_pre_approval"],
            CaseState.DRAFT.value,
            CaseState.DRAFT.label,
            now,
            seal(normalised(params.id_number), CASE_ID_NUMBER) or None,
        )
        basic = {
            "name": params.applicant_name,
            "id_number": seal(params.id_number, SECTION_ID_NUMBER),
            "gender": params.gender if params.gender in ("男", "女") else "",
            "birth_date": _birth_date(params.id_number),
        }
        await conn.execute(
            "INSERT INTO case_sections (case_id, section, data, updated_at)"
            " VALUES ($1, 'basic', $2, $3)",
            case_id,
            basic,
            now,
        )
        await statistics_store.record_opened(conn, case_id)
    return {"case_id": str(case_id), "case_no": case_no}


async def _not_barred(conn, id_number: str, today) -> None:
    """A running 失信 entry against the applicant's ID number refuses the new declaration."""
    try:
        await check_id_numbers(conn, [id_number], today)
    except DeclarationBarred as barred:
        raise RpcError("discredited", barred.message, 422) from None


def _birth_date(id_number: str) -> str | None:
    digits = id_number[6:14]
    if len(id_number) == 18 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return None


async def _check_choices(conn, params: OpenCase, today) -> dict:
    errors = {}
    round_row = await conn.fetchrow("SELECT * FROM rounds WHERE id = $1", params.round_id)
    if round_row is None or not round_row["active"]:
        errors["round_id"] = "请选择评审年度"
    else:
        try:
            window_of(round_row).require_open(today, OPENING)
        except OutsideDeclarationWindow as outside:
            errors["round_id"] = outside.message
    review_type = await conn.fetchrow(
        "SELECT * FROM review_types WHERE id = $1", params.review_type_id
    )
    if review_type is None:
        errors["review_type_id"] = "请选择评审类型"
    committee = await conn.fetchrow(
        "SELECT c.department_id, EXISTS (SELECT 1 FROM committee_qualifications q"
        " WHERE q.committee_id = c.id AND q.qualification_id = $2) AS reviews"
        " FROM committees c WHERE c.id = $1 AND c.active",
        params.committee_id,
        params.qualification_id,
    )
    if not await conn.fetchval(
        "SELECT 1 FROM qualifications WHERE id = $1", params.qualification_id
    ):
        errors["qualification_id"] = "请选择申报的专业技术资格"
    if committee is None:
        errors["committee_id"] = "请选择评委会"
    elif not committee["reviews"] and "qualification_id" not in errors:
        errors["committee_id"] = "该评委会不评审所选的专业技术资格"
    if errors:
        raise _invalid(errors)
    return {
        "department_id": committee["department_id"],
        "needs_pre_approval": review_type["needs_pre_approval"],
    }


async def _own_draft(conn, ctx: CallContext, case_id: uuid.UUID):
    actor = _applicant(ctx)
    row = await conn.fetchrow(
        "SELECT c.*, t.needs_pre_approval AS type_needs FROM cases c"
        " JOIN review_types t ON t.id = c.review_type_id"
        " WHERE c.id = $1 AND c.applicant_id = $2 FOR UPDATE OF c",
        case_id,
        actor.user_id,
    )
    if row is None:
        raise RpcError("not_found", "申报业务不存在或无权访问", 404)
    if row["state"] != CaseState.DRAFT.value:
        raise RpcError("conflict", f"业务状态为“{row['status_label']}”，申报材料不能再修改", 409)
    return row


async def save_section(params: SaveSection, ctx: CallContext) -> dict:
    try:
        data = check_section(params.section, params.data)
    except SectionInvalid as error:
        raise _invalid(error.errors) from None
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await _own_draft(conn, ctx, params.case_id)
        await conn.execute(
            "INSERT INTO case_sections (case_id, section, data, updated_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (case_id, section)"
            " DO UPDATE SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at",
            params.case_id,
            params.section,
            sealed_section(params.section, data),
            now,
        )
        if params.section == "basic":
            await conn.execute(
                "UPDATE cases SET applicant_name = COALESCE(NULLIF($2, ''), applicant_name),"
                " exemptions = $3, needs_pre_approval = $4, updated_at = $5 WHERE id = $1",
                params.case_id,
                data["name"],
                data["exemptions"],
                needs_pre_approval(row["type_needs"], data["exemptions"]),
                now,
            )
            await conn.execute(  # the 已办 rows of a returned case carry its name
                "UPDATE case_done cd SET applicant_name = c.applicant_name FROM cases c"
                " WHERE c.id = $1 AND cd.case_id = $1"
                " AND cd.applicant_name IS DISTINCT FROM c.applicant_name",
                params.case_id,
            )
    return {"saved": params.section, "at": now.isoformat()}


def _category(category: str) -> None:
    if category not in SCAN_CATEGORIES:
        raise _invalid({"category": "请选择扫描件类别"})


SCAN_USAGE = (
    "SELECT count(*) FILTER (WHERE category = $2) AS category_files,"
    " COALESCE(sum(size_bytes) FILTER (WHERE category = $2), 0) AS category_bytes,"
    " count(*) AS case_files, COALESCE(sum(size_bytes), 0) AS case_bytes"
    " FROM case_attachments WHERE case_id = $1 AND removed_at IS NULL"
)


async def _check_room(conn, ctx: CallContext, case_id, category: str, size_bytes: int) -> None:
    """422 on the file when this scan would take its section or case past the limits."""
    used = await conn.fetchrow(SCAN_USAGE, case_id, category)
    try:
        check_new_scan(
            ctx.deps.settings.scan_limits(),
            Usage(used["category_files"], used["category_bytes"]),
            Usage(used["case_files"], used["case_bytes"]),
            size_bytes,
        )
    except ScanRefused as refused:
        raise RpcError("scan_limit", refused.message, 422, {"file": refused.message}) from None


async def check_upload(params: UploadCheck, ctx: CallContext) -> dict:
    """Early, so documents refuses before storing the bytes; attach decides."""
    _category(params.category)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await _own_draft(conn, ctx, params.case_id)
        await _check_room(conn, ctx, params.case_id, params.category, params.size_bytes)
    return {"unit_id": str(row["unit_id"]), "case_id": str(row["id"])}


async def attach(params: Attach, ctx: CallContext) -> dict:
    _category(params.category)
    attachment_id = uuid.uuid4()
    async with ctx.pool.acquire() as conn, conn.transaction():
        # The case row stays locked until commit, so concurrent attaches count one another.
        await _own_draft(conn, ctx, params.case_id)
        await _check_room(conn, ctx, params.case_id, params.category, params.size_bytes)
        await conn.execute(
            "INSERT INTO case_attachments (id, case_id, category, file_id, filename,"
            " content_type, size_bytes, checksum, uploaded_by, uploaded_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            attachment_id,
            params.case_id,
            params.category,
            params.file_id,
            params.filename[:200],
            params.content_type,
            params.size_bytes,
            params.checksum,
            ctx.actor.user_id,
            ctx.deps.clock.now(),
        )
    return {"attachment_id": str(attachment_id)}


async def remove_attachment(params: RemoveAttachment, ctx: CallContext) -> dict:
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _own_draft(conn, ctx, params.case_id)
        result = await conn.execute(
            "UPDATE case_attachments SET removed_at = $3 WHERE id = $1 AND case_id = $2"
            " AND removed_at IS NULL",
            params.attachment_id,
            params.case_id,
            ctx.deps.clock.now(),
        )
    if result.endswith("0"):
        raise RpcError("not_found", "扫描件不存在", 404)
    return {"removed": True}
