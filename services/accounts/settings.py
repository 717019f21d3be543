"""Settings of the accounts service (environment variables, prefix ZC_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AccountsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    secret_key: str = Field(
        "dev-only-secret-change-me",
        description="Key of the HMAC that stores SMS and captcha codes; set it in production.",
    )
    # Lockout (docs/security.md): wrong passwords pause one (account, address) pair first, so
    # a stranger guessing from one place never keeps the owner out from another.
    login_max_failures: int = Field(
        5, description="Wrong passwords for one account from one address that pause..."
    )
    login_failure_window_minutes: int = Field(15, description="...within this many minutes.")
    login_lock_minutes: int = Field(
        15, description="How long that address waits before it may try the account again."
    )
    # ASVS 2.2.1: no more than 100 failed attempts an hour on one account.
    account_max_failures: int = Field(
        100, description="Wrong passwords for one account from anywhere that lock it..."
    )
    account_failure_window_minutes: int = Field(60, description="...within this many minutes.")
    account_lock_minutes: int = Field(
        60, description="How long a locked account refuses addresses it was never used from."
    )
    usual_address_days: int = Field(
        90, description="An address the account logged in from this recently is its owner's."
    )
    second_factor: bool = Field(
        True,
        description="Department, office, committee, expert and sysadmin accounts confirm each"
        " sign-in with an SMS code to their registered mobile; false only for development.",
    )
    login_challenge_minutes: int = Field(
        10, description="How long the code step of a sign-in stays open after the password."
    )
    session_idle_minutes: int = Field(30, description="A session unused this long expires.")
    session_max_hours: int = Field(12, description="No session lives longer than this.")
    sms_code_ttl_seconds: int = Field(300, description="An SMS code is valid this long.")
    sms_code_max_attempts: int = Field(5, description="Wrong tries that kill an SMS code.")
    # Codes per mobile, whatever their purpose, as the SMS providers count them per number
    # (Alibaba Cloud's default: 1 a minute, 5 an hour, 10 a day): refused here first, with a
    # message of ours, so nobody meets a provider's throttling.
    sms_cooldown_seconds: int = Field(
        60, description="Wait between two codes to one phone (1 a minute)."
    )
    sms_hourly_cap_per_mobile: int = Field(5, description="Codes one phone gets per hour.")
    sms_daily_cap_per_mobile: int = Field(
        10, description="Codes one phone gets per day (a calendar day in Shenzhen)."
    )
    sms_daily_cap_per_client: int = Field(30, description="Codes one client address asks per day.")
    captcha_ttl_seconds: int = Field(300, description="An image captcha is valid this long.")
    sweep_interval_seconds: float = Field(
        300, description="How often expired captchas, codes, sessions and counters are purged."
    )
    session_keep_days: int = Field(
        30, description="Ended sessions are kept this long (the 登录设备 page shows live ones)."
    )
