"""A case's 职称电子证书 for those who may see the case, its public verification, and the
holder's 查询记录.

Verification needs no login: it answers only a number and code that match, with the holder
masked, and the same 未查询到 whichever of the two was wrong. It is rate-limited per client
address (`verify` in shared/rate_limit.py), counting every attempt, and each success is
recorded with the address and, when someone is signed in, who.
"""

import hmac
import uuid

from services.cases.domain.calendar import local_date
from services.cases.domain.certificates import as_typed, mask_id_number, mask_name
from services.cases.scope import visibility
from shared.contracts.accounts.vocabulary import ROLE_LABELS
from shared.contracts.cases.certificates import (
    NOT_FOUND,
    CertificateOfCase,
    CertificateStatus,
    VerifyCertificate,
)
from shared.rpc import CallContext, RpcError

MAX_QUERIES_SHOWN = 200
ANONYMOUS = "未登录访客"

COLUMNS = (
    "x.id, x.case_id, x.certificate_no, x.verification_code, x.holder_name, x.id_number,"
    " x.qualification, x.series, x.level, x.committee, x.department, x.passed_on, x.issued_on,"
    " x.status, x.revoked_at"
)


async def get_certificate(params: CertificateOfCase, ctx: CallContext) -> dict:
    row = await _of_visible_case(ctx, params.case_id)
    return {
        "certificate_id": str(row["id"]),
        "case_id": str(row["case_id"]),
        "verification_code": row["verification_code"],
        **_shown(row, row["holder_name"], row["id_number"]),
    }


async def verify(params: VerifyCertificate, ctx: CallContext) -> dict:
    number, code = as_typed(params.certificate_no), as_typed(params.verification_code)
    _check_typed(number, code)
    now = ctx.deps.clock.now()
    async with ctx.pool.acquire() as conn:
        await ctx.deps.rate_limits.hit(conn, "verify", params.client_ip or "?", now)
        row = await conn.fetchrow(
            f"SELECT {COLUMNS} FROM certificates x WHERE x.certificate_no = $1", number
        )
        # bytes: compare_digest refuses str with characters beyond ASCII, which anyone may type
        if row is None or not hmac.compare_digest(row["verification_code"].encode(), code.encode()):
            raise RpcError("not_found", NOT_FOUND, 404)
        await _record_query(conn, ctx, row["id"], params, now)
    return _shown(row, mask_name(row["holder_name"]), mask_id_number(row["id_number"]))


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


async def _record_query(conn, ctx: CallContext, certificate_id, params, now) -> None:
    actor = ctx.actor
    signed_in = actor.user_id is not None
    await conn.execute(
        "INSERT INTO certificate_queries (certificate_id, at, client_ip, channel, user_id,"
        " user_name, user_role) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        certificate_id,
        now,
        params.client_ip or "?",
        params.channel,
        actor.user_id,
        actor.name if signed_in else None,
        actor.role if signed_in else None,
    )


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
