"""The Chinese text of every SMS the system sends."""

SIGNATURE = "【深圳职称申报】"

TEMPLATES = {
    "code.register": (
        "您正在注册单位管理员，验证码 {code}，{minutes} 分钟内有效。如非本人操作请忽略。"
    ),
    "code.reset_password": (
        "您正在重设登录密码，验证码 {code}，{minutes} 分钟内有效。请勿告知他人。"
    ),
    "case.notice": "{name}您好：{text}（{round} {qualification}）",
}


def render(template: str, **params) -> str:
    return SIGNATURE + TEMPLATES[template].format(**params)


def redact(body: str, code: str) -> str:
    """The body as kept once the code is of no more use to anyone."""
    return body.replace(code, "*" * len(code))
