"""Tencent Cloud SMS (短信, API 2021-01-11) through its official SDK.

- `SendSms` with `SmsSdkAppId`, `SignName`, `TemplateId`, `TemplateParamSet` (the template's
  parameters in order), `PhoneNumberSet` ["+86…"] and the out-id as `SessionContext`; the
  answer holds one `SendStatus` per number: `Code: Ok` with a `SerialNo` is an acceptance,
  any other code a refusal of that number. A request-level error comes as
  `Response.Error.Code`.
- `PullSmsSendStatus` hands over status reports in bulk (each once; Tencent Cloud's SMS
  helper enables it), `PullSmsSendStatusByPhoneNumber` lists one number's reports of a time
  span. A report carries the `SerialNo` and the `SessionContext` (its return in reports is
  also enabled by the SMS helper): that is how an out-id is asked about. Tencent Cloud cannot
  be asked whether it accepted an SMS, only for its report, which may come late: so a claim
  it has no report of is never taken as unsent by default
  (`ZC_SMS_TENCENT_NOT_FOUND_AFTER_SECONDS`).

The SDK signs every request with TC3-HMAC-SHA256; it is used without its region breaker (which
would switch to another endpoint) and without retries.

The table of error codes (`REFUSALS`) says how each refusal is taken; docs/sms.md lists it.
"""

import logging
import threading
import time
from datetime import datetime

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from services.notify.provider_adapter import (
    ConfigurationError,
    Found,
    ProviderApi,
    ProviderError,
    Redactor,
    Refusal,
    Report,
    SendResult,
)
from services.notify.settings import SmsAdapterSettings

log = logging.getLogger(__name__)

P, T = Refusal("permanent"), Refusal("transient")
REFUSALS: dict[str, Refusal] = {
    # the message itself: never sent, never retried
    "InvalidParameterValue.IncorrectPhoneNumber": P,
    "FailedOperation.PhoneNumberParseFail": P,
    "FailedOperation.PhoneNumberInBlacklist": P,
    "FailedOperation.SignatureIncorrectOrUnapproved": P,
    "FailedOperation.MissingSignature": P,
    "FailedOperation.TemplateIncorrectOrUnapproved": P,
    "FailedOperation.TemplateUnapprovedOrNotExist": P,
    "FailedOperation.TemplateIdNotExist": P,
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": P,
    "FailedOperation.ContainSensitiveWord": P,
    "InvalidParameterValue.TemplateParameterFormatError": P,
    "InvalidParameterValue.TemplateParameterLengthLimit": P,
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": P,
    "InvalidParameterValue.ContentLengthLimit": P,
    "InvalidParameter.DirtyWordFound": P,
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber": P,
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone": P,
    # throttled: the provider's flow control, retried once its window is over
    "LimitExceeded.PhoneNumberThirtySecondLimit": Refusal("throttled", "thirty_seconds"),
    "LimitExceeded.PhoneNumberOneHourLimit": Refusal("throttled", "hour"),
    "LimitExceeded.PhoneNumberDailyLimit": Refusal("throttled", "day"),
    "LimitExceeded.PhoneNumberSameContentDailyLimit": Refusal("throttled", "day"),
    "LimitExceeded.DeliveryFrequencyLimit": Refusal("throttled", "minute"),
    "LimitExceeded.DailyLimit": Refusal("throttled", "day"),
    "LimitExceeded.AppDailyLimit": Refusal("throttled", "day"),
    "LimitExceeded.AppMainlandChinaDailyLimit": Refusal("throttled", "day"),
    "RequestLimitExceeded": Refusal("throttled", "request"),
    "RequestLimitExceeded.UinLimitExceeded": Refusal("throttled", "request"),
    # transient: the provider or our account cannot send now; retried, then the fallback
    "InternalError": T,
    "InternalError.OtherError": T,
    "InternalError.RequestTimeException": T,  # this machine's clock
    "InternalError.SendAndRecvFail": T,
    "InternalError.Timeout": T,
    "InternalError.UnknownError": T,
    "InternalError.ParseBackendResponseFail": T,
    "FailedOperation.InsufficientBalanceInSmsPackage": T,  # an operator buys a package
    "UnauthorizedOperation.ServiceSuspendDueToArrears": T,
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": T,
    "UnauthorizedOperation.SdkAppIdIsDisabled": T,
    "UnauthorizedOperation.RequestIpNotInWhitelist": T,
    "UnauthorizedOperation.RequestPermissionDeny": T,
    "AuthFailure.SecretIdNotFound": T,  # credentials: an operator fixes them
    "AuthFailure.SignatureFailure": T,
    "AuthFailure.SignatureExpire": T,
    "AuthFailure.InvalidSecretId": T,
    "AuthFailure.UnauthorizedOperation": T,
    "ServerNetworkError": T,
}


def classify(code: str) -> Refusal:
    """How a refusal is taken; an unlisted code as transient (retried, then the fallback)."""
    refusal = REFUSALS.get(code)
    if refusal is None:
        if code.startswith(("InvalidParameter", "MissingParameter", "UnsupportedOperation")):
            return P  # what was asked is wrong: asking again will not mend it
        log.warning("tencent: unlisted code %s taken as transient", code)
        return T
    return refusal


class TencentSms(ProviderApi):
    name = "tencent"
    pulls_reports = True

    def __init__(self, settings: SmsAdapterSettings, sign_name: str) -> None:
        self.secret_id = settings.credential("sms_tencent_secret_id")
        self.secret_key = settings.credential("sms_tencent_secret_key")
        if not self.secret_id or not self.secret_key or not settings.sms_tencent_sdk_app_id:
            raise ConfigurationError(
                "Tencent Cloud SMS needs ZC_SMS_TENCENT_SECRET_ID, ZC_SMS_TENCENT_SECRET_KEY"
                " (or their _FILE variants) and ZC_SMS_TENCENT_SDK_APP_ID"
            )
        self.settings = settings
        self.sign_name = sign_name
        self.app_id = settings.sms_tencent_sdk_app_id
        self.templates = settings.sms_tencent_templates
        self.pulls_reports = settings.sms_tencent_pull_reports
        self._local = threading.local()

    def secrets(self) -> list[str]:
        return [self.secret_id, self.secret_key]

    def template_id(self, key: str | None) -> str | None:
        return self.templates.get(key or "")

    def not_found_trusted_after(self) -> float | None:
        return self.settings.sms_tencent_not_found_after_seconds or None

    def _client(self) -> sms_client.SmsClient:
        client = getattr(self._local, "client", None)
        if client is None:
            http = HttpProfile(
                endpoint=self.settings.sms_tencent_endpoint,
                protocol=self.settings.sms_tencent_protocol,
                reqTimeout=self.settings.sms_provider_timeout,
                keepAlive=True,
            )
            profile = ClientProfile(httpProfile=http, disable_region_breaker=True)
            client = self._local.client = sms_client.SmsClient(
                credential.Credential(self.secret_id, self.secret_key),
                self.settings.sms_tencent_region,
                profile,
            )
        return client

    def send(
        self, mobile: str, out_id: str, template_id: str, params: list[tuple[str, str]]
    ) -> SendResult:
        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+86" + mobile]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = [value for _, value in params]
        request.SessionContext = out_id
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as error:
            return _refused_request(error)
        except Exception as error:
            return SendResult(unknown=True, code="NoAnswer", message=Redactor.text(str(error)))
        statuses = response.SendStatusSet or []
        if not statuses:
            return SendResult(unknown=True, code="NoStatus", message="no SendStatus answered")
        status = statuses[0]
        if status.Code == "Ok":
            return SendResult(accepted=True, ref=status.SerialNo, code=status.Code)
        refusal = classify(status.Code)
        return SendResult(
            code=status.Code,
            message=Redactor.text(f"{status.Code}: {status.Message}"),
            error_class=refusal.error_class,
            window=refusal.window,
        )

    def lookup(self, mobile: str, out_id: str, ref: str | None, since: datetime) -> Found | None:
        request = models.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int(since.timestamp()) - 60
        request.EndTime = int(time.time()) + 60
        request.Offset = 0
        request.Limit = 100
        request.PhoneNumber = "+86" + mobile
        request.SmsSdkAppId = self.app_id
        try:
            response = self._client().PullSmsSendStatusByPhoneNumber(request)
        except TencentCloudSDKException as error:
            raise ProviderError(Redactor.text(f"{error.code}: {error.message}")) from None
        except Exception as error:
            raise ProviderError(Redactor.text(str(error))) from None
        for status in response.PullSmsSendStatusSet or []:
            if status.SessionContext == out_id or (ref and status.SerialNo == ref):
                return Found(status.SerialNo, _status(status), status.Description)
        return None

    def pull_reports(self) -> list[Report]:
        request = models.PullSmsSendStatusRequest()
        request.Limit = self.pull_limit
        request.SmsSdkAppId = self.app_id
        try:
            response = self._client().PullSmsSendStatus(request)
        except TencentCloudSDKException as error:
            raise ProviderError(Redactor.text(f"{error.code}: {error.message}")) from None
        except Exception as error:
            raise ProviderError(Redactor.text(str(error))) from None
        return [
            Report(s.SerialNo, s.SessionContext or None, _status(s), s.Description)
            for s in response.PullSmsSendStatusSet or []
        ]


def _status(status) -> str:
    return "delivered" if status.ReportStatus == "SUCCESS" else "failed"


def _refused_request(error: TencentCloudSDKException) -> SendResult:
    code, message = str(error.code), Redactor.text(str(error.message))
    if code == "ClientNetworkError":
        connect = ("NewConnectionError", "Connection refused", "ConnectTimeout")
        if any(word in message for word in connect):  # it never left this machine
            return SendResult(code="ConnectionError", message=message, error_class="transient")
        return SendResult(unknown=True, code="NoAnswer", message=message)
    if code == "ServerNetworkError":  # an HTTP error outside the API: may have been taken
        return SendResult(unknown=True, code=code, message=message[:300])
    refusal = classify(code)
    return SendResult(
        code=code,
        message=f"{code}: {message}",
        error_class=refusal.error_class,
        window=refusal.window,
    )
