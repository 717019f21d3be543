"""Settings of the notify service (environment variables, prefix ZC_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    sms_max_attempts: int = Field(5, description="Sends of one SMS before it is failed.")
    sms_retry_base_seconds: float = Field(5.0, description="First retry delay; doubles each try.")
    sms_dispatch_interval: float = Field(1.0, description="Seconds between dispatcher rounds.")
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
