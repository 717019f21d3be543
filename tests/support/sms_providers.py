"""The two provider fakes set up as this system's accounts there: credentials, the approved
signature, a template id for every template of services/notify/templates.py, and the
adapter settings (or environment, for processes) that point the SDKs at the fakes."""

import json

from pydantic import SecretStr

from services.notify.settings import SmsAdapterSettings
from services.notify.templates import SIGN_NAME, TEMPLATES
from tests.support.fake_aliyun import FakeAliyunSms
from tests.support.fake_tencent import FakeTencentSms

ALIYUN_KEY_ID = "LTAI5tFakeKeyIdForTests"
ALIYUN_KEY_SECRET = "fAkEsEcReT-aliyun-0123456789abcdef"
TENCENT_SECRET_ID = "AKIDfakeSecretIdForTests0123"
TENCENT_SECRET_KEY = "fAkEsEcReT-tencent-9876543210fedcba"
TENCENT_APP_ID = "1400123456"
SECRETS = (ALIYUN_KEY_ID, ALIYUN_KEY_SECRET, TENCENT_SECRET_ID, TENCENT_SECRET_KEY)

ALIYUN_TEMPLATES = {key: f"SMS_{468190001 + n}" for n, key in enumerate(TEMPLATES)}
TENCENT_TEMPLATES = {key: str(2100001 + n) for n, key in enumerate(TEMPLATES)}


def fake_aliyun(**kwargs) -> FakeAliyunSms:
    return FakeAliyunSms(
        {ALIYUN_KEY_ID: ALIYUN_KEY_SECRET},
        {SIGN_NAME},
        {ALIYUN_TEMPLATES[k]: t.params for k, t in TEMPLATES.items()},
        **kwargs,
    )


def fake_tencent(**kwargs) -> FakeTencentSms:
    return FakeTencentSms(
        {TENCENT_SECRET_ID: TENCENT_SECRET_KEY},
        {SIGN_NAME},
        {TENCENT_TEMPLATES[k]: t.params for k, t in TEMPLATES.items()},
        app_id=TENCENT_APP_ID,
        **kwargs,
    )


def adapter_settings(aliyun_port: int, tencent_port: int, **overrides) -> SmsAdapterSettings:
    values = {
        "sms_aliyun_access_key_id": SecretStr(ALIYUN_KEY_ID),
        "sms_aliyun_access_key_secret": SecretStr(ALIYUN_KEY_SECRET),
        "sms_aliyun_endpoint": f"127.0.0.1:{aliyun_port}",
        "sms_aliyun_protocol": "http",
        "sms_aliyun_templates": ALIYUN_TEMPLATES,
        "sms_tencent_secret_id": SecretStr(TENCENT_SECRET_ID),
        "sms_tencent_secret_key": SecretStr(TENCENT_SECRET_KEY),
        "sms_tencent_sdk_app_id": TENCENT_APP_ID,
        "sms_tencent_endpoint": f"127.0.0.1:{tencent_port}",
        "sms_tencent_protocol": "http",
        "sms_tencent_templates": TENCENT_TEMPLATES,
        **overrides,
    }
    return SmsAdapterSettings(**values)


def adapter_env(aliyun_port: int, tencent_port: int, secrets_dir=None) -> dict[str, str]:
    """The same as environment variables; the secrets in files when `secrets_dir` is given."""
    env = {
        "ZC_SMS_ALIYUN_ENDPOINT": f"127.0.0.1:{aliyun_port}",
        "ZC_SMS_ALIYUN_PROTOCOL": "http",
        "ZC_SMS_ALIYUN_TEMPLATES": json.dumps(ALIYUN_TEMPLATES),
        "ZC_SMS_TENCENT_SDK_APP_ID": TENCENT_APP_ID,
        "ZC_SMS_TENCENT_ENDPOINT": f"127.0.0.1:{tencent_port}",
        "ZC_SMS_TENCENT_PROTOCOL": "http",
        "ZC_SMS_TENCENT_TEMPLATES": json.dumps(TENCENT_TEMPLATES),
    }
    secrets = {
        "ZC_SMS_ALIYUN_ACCESS_KEY_ID": ALIYUN_KEY_ID,
        "ZC_SMS_ALIYUN_ACCESS_KEY_SECRET": ALIYUN_KEY_SECRET,
        "ZC_SMS_TENCENT_SECRET_ID": TENCENT_SECRET_ID,
        "ZC_SMS_TENCENT_SECRET_KEY": TENCENT_SECRET_KEY,
    }
    for name, value in secrets.items():
        if secrets_dir is None:
            env[name] = value
        else:
            path = secrets_dir / name.lower()
            path.write_text(value + "\n", encoding="utf-8")
            path.chmod(0o600)
            env[name + "_FILE"] = str(path)
    return env
