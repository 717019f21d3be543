"""A fake of Alibaba Cloud SMS (dysmsapi, version 2017-05-25): SendSms and QuerySendDetails.

The SDK (alibabacloud-dysmsapi20170525 4.6.0 on alibabacloud-tea-openapi 0.4.6) sends every
call in the V3 style: the action in `x-acs-action`, the parameters in the query string, and
an `Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;...>,
Signature=<hex>` header. The fake checks it as Alibaba Cloud documents the V3 signature:

    CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQueryString \\n
                       CanonicalHeaders \\n SignedHeaders \\n HashedRequestPayload
    StringToSign     = "ACS3-HMAC-SHA256" \\n hex(sha256(CanonicalRequest))
    Signature        = hex(hmac_sha256(AccessKeySecret, StringToSign))

the query parameters sorted by name, names and values percent-encoded (RFC 3986: only
A-Z a-z 0-9 - _ . ~ left as they are); the signed headers lowercased, sorted, each
`name:trimmed value`; `host`, every `x-acs-*` header and `content-type` (when sent) must be
signed; `x-acs-content-sha256` must be the SHA-256 of the body; `x-acs-date` (ISO 8601 UTC)
within 15 minutes; `x-acs-signature-nonce` never seen before. Refusals come as the gateway
sends them: HTTP 400/404 with `{RequestId, HostId, Code, Message, Recommend}`.

SendSms answers `{RequestId, Code: "OK", Message: "OK", BizId}` or a business error with
HTTP 200 and its `Code` (isv.MOBILE_NUMBER_ILLEGAL, isv.SMS_SIGNATURE_ILLEGAL,
isv.SMS_TEMPLATE_ILLEGAL, isv.TEMPLATE_MISSING_PARAMETERS, isv.INVALID_JSON_PARAM,
isv.BUSINESS_LIMIT_CONTROL "触发分钟级流控Permits:1"), or HTTP 503 ServiceUnavailable.
QuerySendDetails answers `{Code, Message, RequestId, TotalCount, SmsSendDetailDTOs:
{SmsSendDetailDTO: [{PhoneNum, SendStatus, ErrCode, TemplateCode, Content, SendDate,
ReceiveDate, OutId}]}}`, SendStatus 1 (waiting for its report), 2 (failed) or 3 (delivered).
"""

import asyncio
import hashlib
import hmac
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from aiohttp import web

from shared.clock import SHENZHEN
from tests.support.fake_sms import FakeProvider, new_ref

ALGORITHM = "ACS3-HMAC-SHA256"
VERSION = "2017-05-25"
MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def canonical_request(request: web.Request, signed_headers: list[str], payload_hash: str) -> str:
    query = sorted((_encode(k), _encode(v)) for k, v in request.query.items())
    canonical_query = "&".join(f"{k}={v}" for k, v in query)
    headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in request.headers.getall(name, [])))}\n"
        for name in signed_headers
    )
    return "\n".join(
        [
            request.method,
            request.path or "/",
            canonical_query,
            headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )


class FakeAliyunSms(FakeProvider):
    name = "aliyun"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.nonces: set[str] = set()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        began = time.monotonic()
        body = await request.read()
        refused = self._check_signature(request, body)
        if refused is not None:
            self.refused_signatures.append(refused[1]["Code"])
            return _json(refused[1], refused[0])
        action = request.headers.get("x-acs-action", "")
        if request.headers.get("x-acs-version") != VERSION:
            return _error(400, "InvalidVersion", "Specified parameter Version is not valid.")
        params = dict(request.query)
        self.requests.append((action, params, began))
        if action == "SendSms":
            return await self._send(params, began)
        if action == "QuerySendDetails":
            return self._query(params)
        return _error(404, "InvalidAction.NotFound", "Specified api is not found.")

    def _check_signature(self, request: web.Request, body: bytes):
        authorization = request.headers.get("Authorization", "")
        match = re.fullmatch(
            rf"{ALGORITHM} Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)",
            authorization,
        )
        if not match:
            return 400, _error_body("IncompleteSignature", "The request signature is invalid.")
        key_id, signed, signature = match.groups()
        self.seen_authorizations.append(authorization)
        secret = self.credentials.get(key_id)
        if secret is None:
            return 404, _error_body(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        signed_headers = signed.split(";")
        sent = {name.lower() for name in request.headers}
        must = {"host"} | {h for h in sent if h.startswith("x-acs-")}
        if "content-type" in sent:
            must.add("content-type")
        if not must <= set(signed_headers) or signed_headers != sorted(signed_headers):
            return 400, _error_body(
                "IncompleteSignature", "The request signature does not conform to standards."
            )
        payload_hash = request.headers.get("x-acs-content-sha256", "")
        if payload_hash != hashlib.sha256(body).hexdigest():
            return 400, _error_body("InvalidParameter", "x-acs-content-sha256 does not match.")
        try:
            date = datetime.strptime(request.headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return 400, _error_body("MissingParameter", "x-acs-date is missing or malformed.")
        if abs(datetime.now(UTC) - date.replace(tzinfo=UTC)) > timedelta(minutes=15):
            return 400, _error_body("InvalidTimeStamp.Expired", "Specified time stamp is expired.")
        string_to_sign = (
            f"{ALGORITHM}\n"
            + hashlib.sha256(
                canonical_request(request, signed_headers, payload_hash).encode()
            ).hexdigest()
        )
        expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return 400, _error_body(
                "SignatureDoesNotMatch", "Specified signature does not match our calculation."
            )
        nonce = request.headers.get("x-acs-signature-nonce", "")
        if not nonce or nonce in self.nonces:
            return 400, _error_body("SignatureNonceUsed", "Specified signature nonce was used.")
        self.nonces.add(nonce)
        return None

    async def _send(self, params: dict, began: float) -> web.Response:
        mobile = params.get("PhoneNumbers", "")
        if self.take("fail_next"):
            return _error(
                503,
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
            )
        if not MOBILE.match(mobile) or mobile in self.knobs.invalid_numbers:
            return _business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if params.get("SignName") not in self.sign_names:
            return _business("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        template = params.get("TemplateCode", "")
        if template not in self.templates:
            return _business("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
            assert isinstance(values, dict) and all(isinstance(v, str) for v in values.values())
        except (ValueError, AssertionError):
            return _business("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if set(self.templates[template]) - set(values):
            return _business("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        if self.take("throttle", mobile):
            return _business("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
        stall = self.take("stall_next")
        ref = f"{new_ref(18)}^0"
        self.accept(ref, params.get("OutId"), mobile, template, values, params["SignName"], began)
        if stall:  # accepted, but the answer comes after the client gave up
            await asyncio.sleep(self.knobs.stall_seconds)
        return _json({"RequestId": _request_id(), "Message": "OK", "BizId": ref, "Code": "OK"})

    def report_failures_for(self, mobile: str) -> str | None:
        if mobile in self.knobs.blacklisted:
            return "MOBILE_IN_BLACK"
        return super().report_failures_for(mobile)

    def _query(self, params: dict) -> web.Response:
        mobile = params.get("PhoneNumber", "")
        if not MOBILE.match(mobile):
            return _business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        day = params.get("SendDate", "")
        try:
            size, page = int(params.get("PageSize", "0")), int(params.get("CurrentPage", "0"))
        except ValueError:
            return _business("isv.INVALID_PARAMETERS", "参数异常")
        if not 1 <= size <= 50 or page < 1 or not re.fullmatch(r"\d{8}", day):
            return _business("isv.INVALID_PARAMETERS", "参数异常")
        now = time.time()
        matching = [
            s
            for s in self.sent
            if s.mobile == mobile
            and _local(s.at).strftime("%Y%m%d") == day
            and (not params.get("BizId") or s.ref == params["BizId"])
        ]
        listed = matching[(page - 1) * size : page * size]
        details = []
        for s in listed:
            reported = s.report_due <= now
            status = (3 if s.report_status == "delivered" else 2) if reported else 1
            details.append(
                {
                    "PhoneNum": s.mobile,
                    "SendStatus": status,
                    "ErrCode": s.report_code if reported else "",
                    "TemplateCode": s.template,
                    "Content": json.dumps(s.params, ensure_ascii=False),
                    "SendDate": _local(s.at).strftime("%Y-%m-%d %H:%M:%S"),
                    "ReceiveDate": _local(s.report_due).strftime("%Y-%m-%d %H:%M:%S")
                    if reported
                    else "",
                    "OutId": s.out_id or "",
                }
            )
        return _json(
            {
                "Code": "OK",
                "Message": "OK",
                "RequestId": _request_id(),
                "TotalCount": len(matching),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
            }
        )


def _local(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, SHENZHEN)


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _json(body: dict, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        charset="utf-8",
    )


def _error_body(code: str, message: str) -> dict:
    return {
        "RequestId": _request_id(),
        "HostId": "dysmsapi.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}",
    }


def _error(status: int, code: str, message: str) -> web.Response:
    return _json(_error_body(code, message), status)


def _business(code: str, message: str) -> web.Response:
    return _json({"RequestId": _request_id(), "Code": code, "Message": message})
