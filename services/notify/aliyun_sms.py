"""Alibaba Cloud SMS (短信服务, dysmsapi 2017-05-25) through its official SDK.

- `SendSms` with `PhoneNumbers`, `SignName`, `TemplateCode`, `TemplateParam` (JSON of the
  template's parameters) and the out-id as `OutId`; an answer `Code: OK` with a `BizId` is
  an acceptance.
- `QuerySendDetails` (one number, one day, pages of 50) lists every SMS Alibaba Cloud
  accepted for the number, each with its `OutId`, `SendStatus` (1 waiting for its report,
  2 failed, 3 delivered) and `ErrCode`: it tells whether an out-id was sent, and its report.

The SDK signs every request with ACS3-HMAC-SHA256 (the V3 signature) and, as configured
here, never retries by itself: a second try of a send is this system's decision.

The table of error codes (`REFUSALS`) says how each refusal is taken; docs/sms.md lists it.
"""

import json
import logging
import re
import threading
from datetime import datetime, timedelta

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_util import models as util_models

from services.notify.provider_adapter import (
    ConfigurationError,
    Found,
    ProviderApi,
    ProviderError,
    Redactor,
    Refusal,
    SendResult,
)
from services.notify.settings import SmsAdapterSettings
from shared.clock import SHENZHEN

log = logging.getLogger(__name__)

P, T = Refusal("permanent"), Refusal("transient")
# Codes of SendSms (in the answer's body) and of the API gateway (HTTP 4xx/5xx).
REFUSALS: dict[str, Refusal] = {
    # the message itself: never sent, never retried
    "isv.MOBILE_NUMBER_ILLEGAL": P,  # not a valid mobile number
    "isv.MOBILE_COUNT_OVER_LIMIT": P,
    "isv.SMS_SIGNATURE_ILLEGAL": P,  # signature not approved (or not ours)
    "isv.SMS_SIGN_ILLEGAL": P,
    "isv.SMS_TEMPLATE_ILLEGAL": P,  # template not approved (or not ours)
    "isv.TEMPLATE_MISSING_PARAMETERS": P,
    "isv.TEMPLATE_PARAMS_ILLEGAL": P,
    "isv.INVALID_PARAMETERS": P,
    "isv.INVALID_JSON_PARAM": P,
    "isv.PARAM_LENGTH_LIMIT": P,
    "isv.PARAM_NOT_SUPPORT_URL": P,
    "isv.BLACK_KEY_CONTROL_LIMIT": P,  # a blacklisted word in a variable
    "isv.SMS_CONTENT_ILLEGAL": P,
    "isv.DENY_IP_RANGE": P,
    # throttled: the provider's flow control, retried once its window is over
    "isv.BUSINESS_LIMIT_CONTROL": Refusal("throttled", "minute"),  # window read from Message
    "isv.DAY_LIMIT_CONTROL": Refusal("throttled", "day"),
    "Throttling": Refusal("throttled", "request"),
    "Throttling.User": Refusal("throttled", "request"),
    "Throttling.Api": Refusal("throttled", "request"),
    # transient: the provider or our account cannot send now; retried, then the fallback
    "isp.SYSTEM_ERROR": T,
    "isp.GATEWAY_ERROR": T,
    "isp.UNKNOWN": T,
    "ServiceUnavailable": T,
    "InternalError": T,
    "isv.AMOUNT_NOT_ENOUGH": T,  # the account's balance: an operator tops it up
    "isv.OUT_OF_SERVICE": T,
    "isv.ACCOUNT_NOT_EXISTS": T,
    "isv.ACCOUNT_ABNORMAL": T,
    "isv.PRODUCT_UN_SUBSCRIPT": T,
    "isp.RAM_PERMISSION_DENY": T,
    "InvalidAccessKeyId.NotFound": T,  # credentials: an operator fixes them
    "InvalidAccessKeyId.Inactive": T,
    "SignatureDoesNotMatch": T,
    "IncompleteSignature": T,
    "InvalidTimeStamp.Expired": T,  # this machine's clock
    "SignatureNonceUsed": T,
    "Forbidden.RAM": T,
}

_WINDOWS = (("分钟", "minute"), ("小时", "hour"), ("天", "day"))


def classify(code: str, message: str | None = None) -> Refusal:
    """How a refusal is taken; an unlisted code as transient (retried, then the fallback)."""
    refusal = REFUSALS.get(code)
    if refusal is None:
        log.warning("aliyun: unlisted code %s taken as transient", code)
        return T
    if code == "isv.BUSINESS_LIMIT_CONTROL" and message:
        # "触发分钟级流控Permits:1", "触发小时级流控Permits:5", "触发天级流控Permits:10"
        for word, window in _WINDOWS:
            if word in message:
                return Refusal("throttled", window)
    return refusal


def _network(error: Exception) -> SendResult:
    """An exception without the provider's answer: surely not sent, or unknown."""
    inner = getattr(error, "inner_exception", None) or error
    text = Redactor.text(str(getattr(inner, "message", None) or inner))
    # The URL holds the template's parameters (a verification code): never in a text.
    text = re.sub(r"with url: \S+", "with url: (not shown)", text)[:500]
    connect = ("NewConnectionError", "Connection refused", "ConnectTimeout", "Failed to establish")
    if any(word in text for word in connect):
        return SendResult(code="ConnectionError", message=text, error_class="transient")
    return SendResult(unknown=True, code="NoAnswer", message=text)


class AliyunSms(ProviderApi):
    name = "aliyun"

    def __init__(self, settings: SmsAdapterSettings, sign_name: str) -> None:
        self.key_id = settings.credential("sms_aliyun_access_key_id")
        self.key_secret = settings.credential("sms_aliyun_access_key_secret")
        if not self.key_id or not self.key_secret:
            raise ConfigurationError(
                "Alibaba Cloud SMS needs ZC_SMS_ALIYUN_ACCESS_KEY_ID and"
                " ZC_SMS_ALIYUN_ACCESS_KEY_SECRET (or their _FILE variants)"
            )
        self.settings = settings
        self.sign_name = sign_name
        self.templates = settings.sms_aliyun_templates
        self.timeout_ms = int(settings.sms_provider_timeout * 1000)
        self._local = threading.local()

    def secrets(self) -> list[str]:
        return [self.key_id, self.key_secret]

    def template_id(self, key: str | None) -> str | None:
        return self.templates.get(key or "")

    def not_found_trusted_after(self) -> float | None:
        return self.settings.sms_aliyun_not_found_after_seconds

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            config = open_api_models.Config(
                access_key_id=self.key_id,
                access_key_secret=self.key_secret,
                endpoint=self.settings.sms_aliyun_endpoint,
                protocol=self.settings.sms_aliyun_protocol,
                connect_timeout=self.timeout_ms,
                read_timeout=self.timeout_ms,
            )
            client = self._local.client = Client(config)
        return client

    def _runtime(self) -> util_models.RuntimeOptions:
        return util_models.RuntimeOptions(
            autoretry=False, read_timeout=self.timeout_ms, connect_timeout=self.timeout_ms
        )

    def send(
        self, mobile: str, out_id: str, template_id: str, params: list[tuple[str, str]]
    ) -> SendResult:
        request = sms_models.SendSmsRequest(
            phone_numbers=mobile,
            sign_name=self.sign_name,
            template_code=template_id,
            template_param=json.dumps(dict(params), ensure_ascii=False),
            out_id=out_id,
        )
        try:
            response = self._client().send_sms_with_options(request, self._runtime())
        except AlibabaCloudException as error:  # the provider answered with an HTTP error
            refusal = classify(str(error.code), error.message)
            retry_after = getattr(error, "retry_after", None)
            return SendResult(
                code=str(error.code),
                message=Redactor.text(f"{error.code}: {_short(error.message)}"),
                error_class=refusal.error_class,
                window=refusal.window,
                retry_after=float(retry_after) if retry_after else None,
            )
        except Exception as error:
            return _network(error)
        body = response.body
        if body.code == "OK":
            return SendResult(accepted=True, ref=body.biz_id, code=body.code)
        refusal = classify(body.code, body.message)
        return SendResult(
            code=body.code,
            message=Redactor.text(f"{body.code}: {body.message}"),
            error_class=refusal.error_class,
            window=refusal.window,
        )

    def lookup(self, mobile: str, out_id: str, ref: str | None, since: datetime) -> Found | None:
        day = since.astimezone(SHENZHEN).date()
        today = datetime.now(SHENZHEN).date()
        while day <= today:
            found = self._lookup_day(mobile, out_id, ref, day.strftime("%Y%m%d"))
            if found is not None:
                return found
            day += timedelta(days=1)
        return None

    def _lookup_day(self, mobile: str, out_id: str, ref: str | None, send_date: str):
        page = 1
        while True:
            request = sms_models.QuerySendDetailsRequest(
                phone_number=mobile,
                biz_id=ref,  # known once it was accepted: only that SMS is listed
                send_date=send_date,
                page_size=50,
                current_page=page,
            )
            try:
                response = self._client().query_send_details_with_options(request, self._runtime())
            except AlibabaCloudException as error:
                raise ProviderError(f"{error.code}: {_short(error.message)}") from None
            except Exception as error:
                raise ProviderError(_network(error).message) from None
            body = response.body
            if body.code != "OK":
                raise ProviderError(Redactor.text(f"{body.code}: {body.message}"))
            listed = body.sms_send_detail_dtos
            details = (listed.sms_send_detail_dto if listed else None) or []
            for detail in details:
                if detail.out_id == out_id:
                    return _found(detail)
            if page * 50 >= int(body.total_count or 0) or not details:
                return None
            page += 1


def _found(detail) -> Found:
    status = int(detail.send_status or 1)
    if status == 3:
        return Found(None, "delivered", detail.err_code or "DELIVERED")
    if status == 2:
        return Found(None, "failed", detail.err_code)
    return Found(None)  # 1: accepted, waiting for its report


def _short(message: str | None) -> str:
    return re.sub(r"\s+", " ", message or "")[:300]
