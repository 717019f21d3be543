"""Settings of the notify service and its SMS provider adapters (environment, prefix ZC_).

`NotifySettings` is what notify itself reads; `SmsAdapterSettings` what the provider adapter
processes read (credentials, endpoints, template ids): notify never holds a provider's key.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["dev", "aliyun", "tencent"]


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    sms_max_attempts: int = Field(5, description="Sends of one SMS before it is failed.")
    sms_retry_base_seconds: float = Field(5.0, description="First retry delay; doubles each try.")
    sms_dispatch_interval: float = Field(
        1.0, description="Seconds between dispatcher rounds when nothing wakes it."
    )
    sms_dispatch_max_rate: float = Field(
        0.0,
        ge=0,
        description="SMS handed to the providers per second at most (0: no limit; the"
        " providers' own request limits are in the thousands a second).",
    )
    sms_dispatch_gather_seconds: float = Field(
        0.02,
        ge=0,
        description="Once woken, the dispatcher waits this long for more deliveries to send"
        " in the same round.",
    )
    sms_dispatch_on_commit: bool = Field(
        True,
        description="Wake the dispatcher at each new delivery's commit (PostgreSQL NOTIFY),"
        " so a notice leaves at once rather than at the next round.",
    )
    sms_dispatch_batch: int = Field(
        100, ge=1, description="Deliveries one dispatcher round takes at most (codes first)."
    )
    sms_notice_ttl_hours: int = Field(
        72, description="A workflow notice not sent by then is dropped."
    )
    sms_reconcile_lease_seconds: float = Field(
        30.0,
        gt=0,
        description="A delivery still 'sending' this long after its send began (a notify"
        " process died between the publish and its record) is republished as the same"
        " attempt, flagged as a reconciliation; the provider adapter sends it only if that"
        " out-id has not gone out. Keep it above the publish timeout (5 s).",
    )
    sms_reconcile_alert_after: int = Field(
        3,
        ge=1,
        description="Reconciliations of one delivery after which each further one is logged"
        " as an error (and the delivery is listed as stuck by sms.unsettled).",
    )
    dev_sms_fail_prefix: str = Field(
        "", description="Development provider: mobiles starting with this are reported failed."
    )
    sms_provider: Provider = Field(
        "dev",
        description="The SMS provider of the adapter consuming <prefix>.sms.provider: dev (a"
        " line in var/sms.log), aliyun (Alibaba Cloud SMS) or tencent (Tencent Cloud SMS).",
    )
    sms_fallback_provider: Provider | Literal[""] = Field(
        "",
        description="The second provider, consuming <prefix>.sms.provider.fallback; empty:"
        " none. A code whose provider failed for a passing reason goes to it at once, a notice"
        " after ZC_SMS_FALLBACK_AFTER such failures.",
    )
    sms_fallback_after: int = Field(
        2,
        ge=1,
        description="Passing failures (timeout, 5xx, connection, account) of a notice on one"
        " provider after which its next attempt goes to the other one, when there is one.",
    )
    sms_sign_name: str = Field(
        "深圳职称申报",
        description="The approved SMS signature (签名), without 【】: sent as SignName and shown"
        " at the head of every SMS text.",
    )


class SmsAdapterSettings(BaseSettings):
    """What a provider adapter process needs: credentials, endpoints, templates, timing.

    Each credential comes from its variable or, better, from a file named by the variable
    with `_FILE` (a secret mounted by the orchestrator). They never reach a log line, a
    receipt or a delivery's history (services/notify/provider_adapter.py redacts them).
    """

    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    sms_aliyun_access_key_id: SecretStr = Field(
        SecretStr(""), description="Alibaba Cloud AccessKey ID."
    )
    sms_aliyun_access_key_id_file: str = Field("", description="File holding the AccessKey ID.")
    sms_aliyun_access_key_secret: SecretStr = Field(
        SecretStr(""), description="Alibaba Cloud AccessKey secret."
    )
    sms_aliyun_access_key_secret_file: str = Field(
        "", description="File holding the AccessKey secret."
    )
    sms_aliyun_endpoint: str = Field(
        "dysmsapi.aliyuncs.com", description="Alibaba Cloud SMS endpoint (host[:port])."
    )
    sms_aliyun_protocol: Literal["https", "http"] = Field("https", description="Its protocol.")
    sms_aliyun_templates: dict[str, str] = Field(
        {},
        description="Template code (TemplateCode) of each template key, JSON, e.g."
        ' {"code.register": "SMS_468190001", ...}; keys in services/notify/templates.py.',
    )
    sms_tencent_secret_id: SecretStr = Field(SecretStr(""), description="Tencent Cloud SecretId.")
    sms_tencent_secret_id_file: str = Field("", description="File holding the SecretId.")
    sms_tencent_secret_key: SecretStr = Field(SecretStr(""), description="Tencent Cloud SecretKey.")
    sms_tencent_secret_key_file: str = Field("", description="File holding the SecretKey.")
    sms_tencent_sdk_app_id: str = Field("", description="Tencent Cloud SMS SmsSdkAppId.")
    sms_tencent_region: str = Field("ap-guangzhou", description="Tencent Cloud region.")
    sms_tencent_endpoint: str = Field(
        "sms.tencentcloudapi.com", description="Tencent Cloud SMS endpoint (host[:port])."
    )
    sms_tencent_protocol: Literal["https", "http"] = Field("https", description="Its protocol.")
    sms_tencent_templates: dict[str, str] = Field(
        {},
        description='TemplateId of each template key, JSON, e.g. {"code.register": "2100001"}.',
    )
    sms_tencent_pull_reports: bool = Field(
        True,
        description="Collect delivery reports with PullSmsSendStatus (to be enabled by Tencent"
        " Cloud's SMS helper); off: only the per-number query PullSmsSendStatusByPhoneNumber.",
    )
    sms_provider_timeout: float = Field(
        5.0, gt=0, description="Seconds one provider call may take (connect and read)."
    )
    sms_provider_concurrency: int = Field(
        16, ge=1, description="Provider calls one adapter process makes at once (threads)."
    )
    sms_provider_prefetch: int = Field(
        64, ge=1, description="SMS one adapter process takes from its queue at once."
    )
    sms_lookup_after_seconds: float = Field(
        15.0,
        gt=0,
        description="An out-id claimed but without a known outcome (its adapter died or its"
        " call timed out) is asked about at the provider this long after the claim: longer"
        " than the call timeout, so the call it waits for is over.",
    )
    sms_aliyun_not_found_after_seconds: float = Field(
        60.0,
        ge=0,
        description="QuerySendDetails lists an SMS as soon as Alibaba Cloud accepted it; an"
        " out-id claimed this long ago and not listed never got there, and is sent again"
        " (as a new attempt).",
    )
    sms_tencent_not_found_after_seconds: float = Field(
        0.0,
        ge=0,
        description="Tencent Cloud can be asked only for status reports, which may come late."
        " 0 (the default): an out-id it has no report of is never taken as not sent; it is"
        " left to the report query and an operator. Above 0: after this many seconds it is.",
    )
    sms_report_poll_interval: float = Field(
        2.0, gt=0, description="Seconds between the adapter's rounds of report collection."
    )
    sms_report_check_after_seconds: float = Field(
        30.0,
        gt=0,
        description="An accepted SMS with no report this long is asked about (QuerySendDetails,"
        " PullSmsSendStatusByPhoneNumber); then again at doubling intervals.",
    )
    sms_report_check_max_interval: float = Field(
        600.0, gt=0, description="The longest interval between two report queries of one SMS."
    )
    sms_report_give_up_hours: float = Field(
        72.0,
        gt=0,
        description="After this long without a report an SMS is no longer asked about: it"
        " stays 'sent' without a receipt, listed by sms.unsettled.",
    )
    sms_throttle_windows: dict[str, float] = Field(
        {"request": 1.0, "thirty_seconds": 30.0, "minute": 60.0, "hour": 3600.0},
        description="Seconds to wait after a provider's throttling, by its window (a day's"
        " limit waits until midnight in Shenzhen), JSON.",
    )

    def credential(self, name: str) -> str:
        """A credential from its file when one is named, else from its variable."""
        path = getattr(self, f"{name}_file")
        if path:
            return Path(path).read_text(encoding="utf-8").strip()
        value = getattr(self, name)
        return (value.get_secret_value() if isinstance(value, SecretStr) else str(value)).strip()
