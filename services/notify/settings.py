"""Settings of the notify service (environment variables, prefix ZC_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    sms_max_attempts: int = Field(5, description="Sends of one SMS before it is failed.")
    sms_retry_base_seconds: float = Field(5.0, description="First retry delay; doubles each try.")
    sms_dispatch_interval: float = Field(1.0, description="Seconds between dispatcher rounds.")
    sms_notice_ttl_hours: int = Field(
        72, description="A workflow notice not sent by then is dropped."
    )
    dev_sms_fail_prefix: str = Field(
        "", description="Development provider: mobiles starting with this are reported failed."
    )
