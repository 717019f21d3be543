"""A case's 职称电子证书 for those who may see the case, its public verification, the
holder's 查询记录, and the 证书登记簿 (the register of those issued) for the sysadmin and the
departments.

Verification needs no login: it answers only a number and code that match, with the holder
masked, and the same 未查询到 whichever of the two was wrong. It is rate-limited per client
address (`verify` in shared/rate_limit.py), counting every attempt, and each success is
recorded with the address and, when someone is signed in, who.
"""

import hmac
import uuid

from services.cases import discredits
from services.cases.domain.calendar import local_date
from services.cases.domain.certificates import as_typed, mask_name
from services.cases.domain.errors import DomainError
from services.cases.domain.integrity import CERTIFICATE_REVOKED_NOTICE
from services.cases.handlers.integrity import record_discredit, rpc_error
from services.cases.repository import Note, save_notes
from services.cases.scope import visibility
from services.cases.sealed import CERTIFICATE_ID_NUMBER, unseal
from shared.contracts.accounts.vocabulary import ROLE_LABELS
from shared.contracts.cases.certificates import (
    CERTIFICATE_REVOKED,
    NOT_FOUND,
    CertificateOfCase,
    CertificateRevokedEvent,
    CertificateStatus,
    ListCertificates,
    RevokeCertificate,
    VerifyCertificate,
)
from shared.contracts.cases.integrity import CaseNote
from shared.envelope import Envelope, new_event
from shared.masks import mask_id_number
from shared.outbox import add_to_outbox
from shared.rate_limit import Counting
from shared.rpc import Actor, CallContext, RpcError
from shared.text import like_pattern

MAX_QUERIES_SHOWN = 200
ANONYMOUS = "未登录访客"

COLUMNS = (
    "x.id, x.case_id, x.certificate_no, x.verification_code, x.holder_name, x.id_number,"
    " x.qualification, x.series, x.level, x.committee, x.department, x.passed_on, x.issued_on,"
    " x.status, x.revoked_at, x.revoked_reason"
)


async def get_certificate(params: CertificateOfCase, ctx: CallContext) -> dict:
    """In full to its holder; the others who see the case have the ID number masked."""
    row = await _of_visible_case(ctx, params.case_id)
    id_number = _id_number(row)
    shown = id_number if ctx.actor.role == "applicant" else mask_id_number(id_number)
    return {
        "certificate_id": str(row["id"]),
        "case_id": str(row["case_id"]),
        "verification_code": row["verification_code"],
        **_shown(row, row["holder_name"], shown),
        "revoked_reason": row["revoked_reason"],
    }


def verify_statement(counting: Counting) -> str:
    """One round trip: the attempt counted, the lookup, and, when number and code match and
    the attempt is within the limit, the query record. $1 number, $2 code, $3 at, $4 client
    address, $5 channel, $6-$8 who is signed in; the counting's from $9."""
    return (
        f"WITH {counting.ctes},"
        f" x AS (SELECT {COLUMNS} FROM certificates x WHERE x.certificate_no = $1),"
        " recorded AS (INSERT INTO certificate_queries (certificate_id, at, client_ip,"
        " channel, user_id, user_name, user_role)"
        " SELECT x.id, $3, $4, $5, $6, $7, $8 FROM x"
        f" WHERE x.verification_code = $2 AND {counting.fits})"
        f" SELECT x.*, {counting.columns} FROM (SELECT) AS one LEFT JOIN x ON true"
    )


async def verify(params: VerifyCertificate, ctx: CallContext) -> dict:
    number, code = as_typed(params.certificate_no), as_typed(params.verification_code)
    _check_typed(number, code)
    now = ctx.deps.clock.now()
    actor = ctx.actor
    signed_in = actor.user_id is not None
    counting = ctx.deps.rate_limits.counting("verify", params.client_ip or "?", now, first=9)
    row = await ctx.pool.fetchrow(
        verify_statement(counting),
        number,
        code,
        now,
        params.client_ip or "?",
        params.channel,
        actor.user_id,
        actor.name if signed_in else None,
        actor.role if signed_in else None,
        *counting.params,
    )
    counting.check(row)
    # bytes: compare_digest refuses str with characters beyond ASCII, which anyone may type
    found = row["verification_code"]
    if found is None or not hmac.compare_digest(found.encode(), code.encode()):
        raise RpcError("not_found", NOT_FOUND, 404)
    return _shown(row, mask_name(row["holder_name"]), mask_id_number(_id_number(row)))


def _id_number(row) -> str:
    return unseal(row["id_number"], CERTIFICATE_ID_NUMBER)


async def queries(params: CertificateOfCase, ctx: CallContext) -> dict:
    row = await _of_visible_case(ctx, params.case_id, holder_only=True)
    async with ctx.pool.acquire() as conn:
        total = await conn.fetchval(
            "SELECT count(*) FROM certificate_queries WHERE certificate_id = $1", row["id"]
        )
        records = await conn.fetch(
            "SELECT at, client_ip, channel, user_name, user_role FROM certificate_queries"
            " WHERE certificate_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
            row["id"],
            MAX_QUERIES_SHOWN,
        )
    return {
        "certificate_no": row["certificate_no"],
        "total": total,
        "items": [_query_record(r) for r in records],
    }


def _check_typed(number: str, code: str) -> None:
    fields = {}
    if not number:
        fields["certificate_no"] = "请输入证书编号"
    if not code:
        fields["verification_code"] = "请输入验证码"
    if fields:
        raise RpcError("invalid_input", "请输入证书编号和验证码", 422, fields)


async def _of_visible_case(ctx: CallContext, case_id: uuid.UUID, holder_only: bool = False):
    """The certificate of a case the actor may see (for `holder_only`, their own case)."""
    if holder_only and ctx.actor.role != "applicant":
        raise RpcError("not_found", "查询记录仅证书持有人本人可见", 404)
    visible, args = visibility(ctx.actor, 2)
    row = await ctx.pool.fetchrow(
        f"SELECT {COLUMNS} FROM certificates x JOIN cases c ON c.id = x.case_id"
        f" WHERE x.case_id = $1 AND {visible}",
        case_id,
        *args,
    )
    if row is None:
        raise RpcError("not_found", "该申报业务没有职称电子证书，或无权查看", 404)
    return row


def _shown(row, holder_name: str, id_number: str) -> dict:
    status = CertificateStatus(row["status"])
    revoked = row["revoked_at"]
    return {
        "certificate_no": row["certificate_no"],
        "holder_name": holder_name,
        "id_number": id_number,
        "qualification": row["qualification"],
        "series": row["series"],
        "level": row["level"],
        "committee": row["committee"],
        "department": row["department"],
        "passed_on": row["passed_on"].isoformat(),
        "issued_on": row["issued_on"].isoformat(),
        "status": status.value,
        "status_label": status.label,
        "revoked_on": local_date(revoked).isoformat() if revoked else None,
    }


def _query_record(row) -> dict:
    who = ANONYMOUS
    if row["user_role"]:
        role = ROLE_LABELS.get(row["user_role"], row["user_role"])
        who = f"{row['user_name'] or ''}（{role}）" if row["user_name"] else role
    return {
        "at": row["at"].isoformat(),
        "client_ip": row["client_ip"],
        "who": who,
        "channel": row["channel"],
    }


# --- 证书登记簿 (the sysadmin's, a department's) ---

# Each certificate has its case (case_id is NOT NULL): the join adds the case's number to the
# rows shown; the condition and the count need only the certificates (a department's scope
# is a semi-join), so the sysadmin's count reads one table.
REGISTER_FROM = "certificates x JOIN cases k ON k.id = x.case_id"
REGISTER_COLUMNS = f"{COLUMNS}, x.issued_at, x.revoked_by_name, k.case_no"
REGISTER_COUNT = "SELECT count(*) FROM certificates x WHERE {}"
# index certificates_issued (migration 017) gives the first page without sorting them all
REGISTER_ORDERS = {
    "newest": "x.issued_at DESC, x.certificate_no DESC",
    "oldest": "x.issued_at, x.certificate_no",
}


def register_query(params: ListCertificates, actor: Actor) -> tuple[str, list, str]:
    """The register as its page filters and sorts it (and its export): a condition on x
    (certificates), its arguments, the order. A department sees the certificates of its
    cases, by the rule of its case lists (services/cases/scope.py)."""
    if actor.role == "sysadmin" and actor.user_id:
        where, args = ["true"], []
    elif actor.role == "department" and actor.org_id:
        visible, args = visibility(actor, 1)
        where = [f"EXISTS (SELECT 1 FROM cases c WHERE c.id = x.case_id AND {visible})"]
    else:
        raise RpcError("forbidden", "只有日常工作部门和系统管理员可以查看证书登记簿", 403)
    typed = params.q.strip()
    if typed:
        # a number as people type it (lower case, full-width), or a part of the name
        args += [like_pattern(as_typed(typed)), like_pattern(typed)]
        n = len(args)
        where.append(f"(x.certificate_no ILIKE ${n - 1} OR x.holder_name ILIKE ${n})")
    for column, value in (
        ("x.committee_id", params.committee_id),
        ("x.year", params.year),
        ("x.status", params.status),
    ):
        if value:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    return " AND ".join(where), args, REGISTER_ORDERS[params.sort]


async def register(params: ListCertificates, ctx: CallContext) -> dict:
    clause, args, order = register_query(params, ctx.actor)
    async with ctx.pool.acquire() as conn:
        total = await conn.fetchval(REGISTER_COUNT.format(clause), *args)
        rows = await conn.fetch(
            f"SELECT {REGISTER_COLUMNS} FROM {REGISTER_FROM} WHERE {clause} ORDER BY {order}"
            f" LIMIT {params.page_size} OFFSET {(params.page - 1) * params.page_size}",
            *args,
        )
    return {
        "total": total,
        "page": params.page,
        "page_size": params.page_size,
        "items": [_register_row(r) for r in rows],
    }


def _register_row(row) -> dict:
    return {
        "certificate_id": str(row["id"]),
        "case_id": str(row["case_id"]),
        "case_no": row["case_no"],
        **_shown(row, row["holder_name"], mask_id_number(_id_number(row))),
    }


# --- revocation ---


async def revoke(params: RevokeCertificate, ctx: CallContext) -> dict:
    """已撤销 from now on in every verification; with a 失信 entry if the department gives one,
    in the same transaction; notes in the case history, the event, the holder's SMS."""
    if ctx.actor.role != "department" or ctx.actor.user_id is None:
        raise RpcError("forbidden", "只有日常工作部门可以撤销电子证书", 403)
    reason = params.reason.strip()
    if not reason:
        raise RpcError("invalid_input", "请填写撤销原因", 422, {"reason": "请填写撤销原因"})
    now = ctx.deps.clock.now()
    visible, args = visibility(ctx.actor, 2)
    async with ctx.pool.acquire() as conn, conn.transaction():
        case = await discredits.case_for_update(conn, params.case_id, visible, args)
        certificate = case and await conn.fetchrow(
            f"SELECT {COLUMNS} FROM certificates x WHERE x.case_id = $1 FOR UPDATE", case["id"]
        )
        if not certificate:
            raise RpcError("not_found", "该申报业务没有职称电子证书，或无权查看", 404)
        if certificate["status"] == CertificateStatus.REVOKED:
            revoked_on = local_date(certificate["revoked_at"]).isoformat()
            raise RpcError("conflict", f"该证书已于 {revoked_on} 撤销", 409)
        await conn.execute(
            "UPDATE certificates SET status = 'revoked', revoked_at = $2, revoked_reason = $3,"
            " revoked_by = $4, revoked_by_name = $5 WHERE id = $1",
            certificate["id"],
            now,
            reason,
            ctx.actor.user_id,
            ctx.actor.name,
        )
        facts = dict(case) | {
            "holder_name": certificate["holder_name"],
            "id_number": _id_number(certificate),
        }
        notes, events = _revoked(facts, certificate, reason, now)
        entry = None
        if params.discredit is not None:
            try:
                entry, note, more = await record_discredit(
                    ctx, conn, facts, params.discredit, now, certificate["id"]
                )
            except DomainError as error:
                raise _in_discredit(rpc_error(error)) from None
            notes.append(note)
            events += more
        await save_notes(conn, ctx.actor, notes)
        await add_to_outbox(conn, *events)
    return {
        "certificate_no": certificate["certificate_no"],
        "status": CertificateStatus.REVOKED.value,
        "status_label": CertificateStatus.REVOKED.label,
        "revoked_on": local_date(now).isoformat(),
        "discredit": entry,
    }


def _revoked(case: dict, certificate, reason: str, now) -> tuple[list[Note], list[Envelope]]:
    note = Note(
        case["id"],
        CaseNote.CERTIFICATE_REVOKED,
        case["state"],
        case["status_label"],
        case["outcome"],
        now,
        {"certificate_no": certificate["certificate_no"]},
        reason,
    )
    payload = CertificateRevokedEvent(
        certificate_id=certificate["id"],
        case_id=case["id"],
        certificate_no=certificate["certificate_no"],
        revoked_at=now.isoformat(),
        reason=reason,
    )
    events = [
        new_event(CERTIFICATE_REVOKED.type, payload, "cases"),
        discredits.applicant_notice(
            case, CERTIFICATE_REVOKED_NOTICE, "certificate_revoked", reason, now
        ),
    ]
    return [note], events


def _in_discredit(error: RpcError) -> RpcError:
    """The 失信 part's fields as the request names them (discredit.reason, …)."""
    error.fields = {f"discredit.{k}": v for k, v in error.fields.items()}
    return error
