"""The SMS provider adapter chosen by the settings: `python -m services.notify.sms_adapter`.

    python -m services.notify.sms_adapter                    # ZC_SMS_PROVIDER's adapter
    python -m services.notify.sms_adapter --route fallback   # ZC_SMS_FALLBACK_PROVIDER's

(`ZC_SMS_ROUTE=fallback` in the environment does the same as `--route fallback`.)

The primary adapter consumes `<prefix>.sms.provider`, the fallback one
`<prefix>.sms.provider.fallback`; both report to `<prefix>.sms.receipts`. `dev` is the
development provider (services/notify/dev_provider.py), `aliyun` Alibaba Cloud SMS
(aliyun_sms.py), `tencent` Tencent Cloud SMS (tencent_sms.py). docs/sms.md says how to
configure each.
"""

import argparse
import asyncio
import logging
import os
import signal
import sys

from services.notify.adapter import ProviderAdapter
from services.notify.provider_adapter import ConfigurationError, SmsProviderAdapter
from services.notify.settings import NotifySettings, SmsAdapterSettings
from shared.logs import setup_logging
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


def build_adapter(
    settings: Settings,
    route: str = "primary",
    notify: NotifySettings | None = None,
    adapter_settings: SmsAdapterSettings | None = None,
) -> ProviderAdapter:
    notify = notify or NotifySettings()
    name = notify.sms_provider if route == "primary" else notify.sms_fallback_provider
    if not name:
        raise ConfigurationError("no fallback provider configured (ZC_SMS_FALLBACK_PROVIDER)")
    if name == "dev":
        from services.notify.dev_provider import DevSmsProvider

        return DevSmsProvider(settings, notify.dev_sms_fail_prefix, route=route)
    adapter_settings = adapter_settings or SmsAdapterSettings()
    if name == "aliyun":
        from services.notify.aliyun_sms import AliyunSms

        api = AliyunSms(adapter_settings, notify.sms_sign_name)
    else:
        from services.notify.tencent_sms import TencentSms

        api = TencentSms(adapter_settings, notify.sms_sign_name)
    return SmsProviderAdapter(settings, api, adapter_settings, route=route)


def process_name(route: str = "primary", notify: NotifySettings | None = None) -> str:
    """sms-dev, sms-aliyun, sms-tencent; the fallback's with -fallback."""
    notify = notify or NotifySettings()
    name = notify.sms_provider if route == "primary" else notify.sms_fallback_provider
    return f"sms-{name}" + ("-fallback" if route == "fallback" else "")


async def _run(route: str) -> int:
    try:
        adapter = build_adapter(get_settings(), route)
    except ConfigurationError as error:
        log.error("SMS adapter not started: %s", error)
        return 2
    await adapter.start()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await adapter.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m services.notify.sms_adapter")
    parser.add_argument(
        "--route",
        choices=("primary", "fallback"),
        default=os.environ.get("ZC_SMS_ROUTE", "primary"),
    )
    args = parser.parse_args()
    setup_logging(get_settings().log_level, process_name(args.route))
    return asyncio.run(_run(args.route))


if __name__ == "__main__":
    sys.exit(main())
