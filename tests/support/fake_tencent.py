"""A fake of Tencent Cloud SMS (API 3.0, version 2021-01-11): SendSms, PullSmsSendStatus and
PullSmsSendStatusByPhoneNumber.

Every request is a POST of JSON with `X-TC-Action`, `X-TC-Timestamp`, `X-TC-Version` and an
`Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/sms/tc3_request,
SignedHeaders=content-type;host, Signature=<hex>` header, checked as Tencent Cloud documents
TC3-HMAC-SHA256:

    CanonicalRequest = Method \\n URI \\n QueryString \\n CanonicalHeaders \\n SignedHeaders \\n
                       hex(sha256(payload))
    StringToSign     = "TC3-HMAC-SHA256" \\n Timestamp \\n <date>/sms/tc3_request \\n
                       hex(sha256(CanonicalRequest))
    SecretDate = HMAC_SHA256("TC3" + SecretKey, date); SecretService = HMAC(SecretDate, "sms")
    SecretSigning = HMAC(SecretService, "tc3_request")
    Signature = hex(HMAC_SHA256(SecretSigning, StringToSign))

`date` is the UTC date of the timestamp, which must be within 5 minutes of now; content-type
and host must be signed. Errors come with HTTP 200 as `{"Response": {"Error": {"Code",
"Message"}, "RequestId"}}` (AuthFailure.SignatureFailure, AuthFailure.SecretIdNotFound,
AuthFailure.SignatureExpire, FailedOperation.SignatureIncorrectOrUnapproved,
FailedOperation.TemplateIncorrectOrUnapproved, ...), a number's refusal in its
`SendStatus.Code` (InvalidParameterValue.IncorrectPhoneNumber,
FailedOperation.PhoneNumberInBlacklist, LimitExceeded.PhoneNumberThirtySecondLimit).
A report: `{UserReceiveTime, CountryCode, SubscriberNumber, PhoneNumber, SerialNo,
ReportStatus: SUCCESS|FAIL, Description, SessionContext}`; PullSmsSendStatus hands each over
once, PullSmsSendStatusByPhoneNumber lists one number's of a time span.
"""

import asyncio
import hashlib
import hmac
import json
import re
import time
import uuid
from datetime import UTC, datetime

from aiohttp import web

from tests.support.fake_sms import FakeProvider, new_ref

ALGORITHM = "TC3-HMAC-SHA256"
VERSION = "2021-01-11"
MOBILE = re.compile(r"^\+861[3-9]\d{9}$")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class FakeTencentSms(FakeProvider):
    name = "tencent"
    delivered_code = "DELIVRD"

    def __init__(self, *args, app_id: str = "1400000001", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app_id = app_id

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        began = time.monotonic()
        body = await request.read()
        refused = self._check_signature(request, body)
        if refused is not None:
            self.refused_signatures.append(refused)
            return _error(refused, "The provided credentials could not be validated.")
        action = request.headers.get("X-TC-Action", "")
        if request.headers.get("X-TC-Version") != VERSION:
            return _error("InvalidParameterValue", "The Version is not valid.")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return _error("FailedOperation.JsonParseFail", "JSON parse failed.")
        self.requests.append((action, params, began))
        if params.get("SmsSdkAppId") != self.app_id:
            return _error(
                "UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId verify failed."
            )
        if action == "SendSms":
            return await self._send(params, began)
        if action == "PullSmsSendStatus":
            return self._pull(params)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self._by_number(params)
        return _error("InvalidAction", "The action requested does not exist.")

    def _check_signature(self, request: web.Request, body: bytes) -> str | None:
        authorization = request.headers.get("Authorization", "")
        match = re.fullmatch(
            rf"{ALGORITHM} Credential=([^/]+)/(\d{{4}}-\d{{2}}-\d{{2}})/([a-z]+)/tc3_request,"
            r" SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            authorization,
        )
        if not match:
            return "AuthFailure.InvalidAuthorization"
        secret_id, date, service, signed, signature = match.groups()
        self.seen_authorizations.append(authorization)
        secret_key = self.credentials.get(secret_id)
        if secret_key is None:
            return "AuthFailure.SecretIdNotFound"
        try:
            timestamp = int(request.headers.get("X-TC-Timestamp", ""))
        except ValueError:
            return "AuthFailure.InvalidAuthorization"
        if abs(time.time() - timestamp) > 300:
            return "AuthFailure.SignatureExpire"
        signed_headers = signed.split(";")
        if service != "sms" or not {"content-type", "host"} <= set(signed_headers):
            return "AuthFailure.SignatureFailure"
        if date != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d"):
            return "AuthFailure.SignatureFailure"
        headers = "".join(
            f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed_headers
        )
        canonical = "\n".join(
            [
                request.method,
                request.path or "/",
                request.query_string,
                headers,
                signed,
                hashlib.sha256(body).hexdigest(),
            ]
        )
        scope = f"{date}/{service}/tc3_request"
        to_sign = (
            f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "AuthFailure.SignatureFailure"
        return None

    async def _send(self, params: dict, began: float) -> web.Response:
        if self.take("fail_next"):
            return _error("InternalError.Timeout", "请求下发短信超时，请参考 60 秒后重试。")
        if params.get("SignName") not in self.sign_names:
            return _error(
                "FailedOperation.SignatureIncorrectOrUnapproved", "签名格式错误或者签名未审批。"
            )
        template = str(params.get("TemplateId", ""))
        if template not in self.templates:
            return _error(
                "FailedOperation.TemplateIncorrectOrUnapproved", "模板格式错误或者模板未审批。"
            )
        values = params.get("TemplateParamSet") or []
        if len(values) != len(self.templates[template]) or not all(
            isinstance(v, str) for v in values
        ):
            return _error(
                "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
                "请求内容与审核通过的模板内容不匹配。",
            )
        numbers = params.get("PhoneNumberSet") or []
        if not numbers:
            return _error("MissingParameter.EmptyPhoneNumberSet", "传入的号码列表为空。")
        context = params.get("SessionContext") or ""
        stall = self.take("stall_next")
        statuses = []
        for number in numbers:
            mobile = number.removeprefix("+86")
            if not MOBILE.match(number) or mobile in self.knobs.invalid_numbers:
                statuses.append(
                    _status(
                        number,
                        context,
                        "InvalidParameterValue.IncorrectPhoneNumber",
                        "手机号格式错误。",
                    )
                )
            elif mobile in self.knobs.blacklisted:
                statuses.append(
                    _status(
                        number,
                        context,
                        "FailedOperation.PhoneNumberInBlacklist",
                        "手机号在免打扰名单库中。",
                    )
                )
            elif self.take("throttle", mobile):
                statuses.append(
                    _status(
                        number,
                        context,
                        "LimitExceeded.PhoneNumberThirtySecondLimit",
                        "单个手机号30秒内下发短信条数超过设定的上限。",
                    )
                )
            else:
                ref = f"{new_ref(4)}:{new_ref(26)}"
                named = dict(zip(self.templates[template], values, strict=True))
                self.accept(
                    ref, context or None, mobile, template, named, params["SignName"], began
                )
                statuses.append(
                    {
                        "SerialNo": ref,
                        "PhoneNumber": number,
                        "Fee": 1,
                        "SessionContext": context,
                        "Code": "Ok",
                        "Message": "send success",
                        "IsoCode": "CN",
                    }
                )
        if stall:  # accepted, but the answer comes after the client gave up
            await asyncio.sleep(self.knobs.stall_seconds)
        return _ok({"SendStatusSet": statuses})

    def _report(self, s) -> dict:
        return {
            "UserReceiveTime": int(s.report_due),
            "CountryCode": "86",
            "SubscriberNumber": s.mobile,
            "PhoneNumber": "+86" + s.mobile,
            "SerialNo": s.ref,
            "ReportStatus": "SUCCESS" if s.report_status == "delivered" else "FAIL",
            "Description": s.report_code,
            "SessionContext": s.out_id or "",
        }

    def _pull(self, params: dict) -> web.Response:
        limit = int(params.get("Limit") or 0)
        if not 1 <= limit <= 100:
            return _error("InvalidParameterValue.LimitVerifyFail", "Limit 参数校验失败。")
        due = [s for s in self.reported() if not s.pulled][:limit]
        for s in due:
            s.pulled = True
        return _ok({"PullSmsSendStatusSet": [self._report(s) for s in due]})

    def _by_number(self, params: dict) -> web.Response:
        try:
            begin, end = int(params["BeginTime"]), int(params.get("EndTime") or time.time())
            limit, number = int(params["Limit"]), str(params["PhoneNumber"])
        except (KeyError, ValueError):
            return _error("MissingParameter", "缺少参数。")
        if not 1 <= limit <= 100:
            return _error("InvalidParameterValue.LimitVerifyFail", "Limit 参数校验失败。")
        mobile = number.removeprefix("+86")
        found = [
            self._report(s)
            for s in self.reported()
            if s.mobile == mobile and begin <= s.report_due <= end
        ]
        return _ok({"PullSmsSendStatusSet": found[:limit]})


def _status(number: str, context: str, code: str, message: str) -> dict:
    return {
        "SerialNo": "",
        "PhoneNumber": number,
        "Fee": 0,
        "SessionContext": context,
        "Code": code,
        "Message": message,
        "IsoCode": "CN",
    }


def _respond(response: dict) -> web.Response:
    response["RequestId"] = str(uuid.uuid4())
    # Exactly application/json: the SDK reads Response.Error only under that content type.
    return web.Response(
        body=json.dumps({"Response": response}, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )


def _ok(response: dict) -> web.Response:
    return _respond(response)


def _error(code: str, message: str) -> web.Response:
    return _respond({"Error": {"Code": code, "Message": message}})
