"""The Chinese text of every SMS the system sends, as the templates approved by the providers.

A Chinese SMS platform sends only an approved signature (签名) and approved templates (模板)
with parameters, never free text. So every kind of SMS notify sends is a `Template` here: a
key (kept on the delivery as `template`), its text with `{name}` parameters, and the order of
the parameters (Tencent Cloud's `TemplateParamSet` is positional). The delivery record keeps
the text as the person reads it (`render`); the adapters send the key's template id of their
provider (settings `ZC_SMS_ALIYUN_TEMPLATES`, `ZC_SMS_TENCENT_TEMPLATES`) and the parameters.
`docs/sms.md` lists the exact texts to submit for approval (`approval_text`), checked by a test.

Case notices have no free text: the notice the cases service sends (services/cases/domain,
APPLICANT_NOTICES) picks its template by its text, and the only parameter is the case number,
so every variable stays within the platforms' rules (a 其他号码 of digits). The reason of a
refusal is not in the SMS (a variable of free text would not be approved): the text asks the
applicant to look in the system.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

SIGN_NAME = "深圳职称申报"  # the signature as submitted; ZC_SMS_SIGN_NAME overrides it
SIGNATURE = f"【{SIGN_NAME}】"


@dataclass(frozen=True)
class Template:
    key: str
    kind: Literal["验证码", "短信通知"]  # the template type to choose when submitting it
    text: str  # with {param} placeholders
    params: tuple[str, ...]  # in the order of the text: Tencent's {1}, {2}, ...

    def fill(self, params: dict[str, str]) -> str:
        return self.text.format(**params)

    def approval_text(self, provider: Literal["aliyun", "tencent"]) -> str:
        """The text to submit: Alibaba Cloud names its variables ${name}, Tencent numbers them."""
        if provider == "aliyun":
            return re.sub(r"\{(\w+)\}", r"${\1}", self.text)
        numbers = {name: str(n) for n, name in enumerate(self.params, 1)}
        return re.sub(r"\{(\w+)\}", lambda m: "{" + numbers[m.group(1)] + "}", self.text)


def _notice(key: str, text: str) -> Template:
    return Template(key, "短信通知", text, ("case_no",))


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "code.register",
            "验证码",
            "您正在注册单位管理员，验证码 {code}，{minutes} 分钟内有效。如非本人操作请忽略。",
            ("code", "minutes"),
        ),
        Template(
            "code.reset_password",
            "验证码",
            "您正在重设登录密码，验证码 {code}，{minutes} 分钟内有效。请勿告知他人。",
            ("code", "minutes"),
        ),
        Template(
            "code.change_mobile",
            "验证码",
            "您正在修改登录账户的手机号码，验证码 {code}，{minutes} 分钟内有效。"
            "如非本人操作请忽略。",
            ("code", "minutes"),
        ),
        Template(
            "code.login",
            "验证码",
            "您正在登录深圳市职称评审系统，验证码 {code}，{minutes} 分钟内有效。"
            "如非本人操作，您的密码可能已泄露，请尽快修改。",
            ("code", "minutes"),
        ),
        Template(
            "code.objection",
            "验证码",
            "您正在提交职称评后公示异议，验证码 {code}，{minutes} 分钟内有效。如非本人操作请忽略。",
            ("code", "minutes"),
        ),
        Template(
            "account.locked",
            "短信通知",
            "您的账户 {username} 近 1 小时内登录失败 {failures} 次，已暂停在新的网络上登录至"
            " {until}，您常用的网络仍可登录。如非本人操作，请尽快修改密码。",
            ("username", "failures", "until"),
        ),
        Template(
            "meeting.drawn",
            "短信通知",
            "您已被抽选为职称评审专家，请于 {date} {time} 到 {place} 参加评审会议。"
            "如不能参加，请尽快告知评委会秘书。",
            ("date", "time", "place"),
        ),
        Template(
            "deadline.reminder",
            "短信通知",
            "您有 {count} 件职称申报业务即将超过办理时限，最早的于 {date} 到期，"
            "请及时登录系统办理。",
            ("count", "date"),
        ),
        Template(
            "expert.account_opened",
            "短信通知",
            "您的职称评审专家账号已开通，用户名 {username}。请在登录页点击“忘记密码”，"
            "用本手机号获取验证码设置登录密码。",
            ("username",),
        ),
        _notice(
            "case.unit_rejected",
            "您的职称申报（申报编号 {case_no}）未通过单位审核，"
            "请登录系统查看原因，修改后重新上报。",
        ),
        _notice(
            "case.returned",
            "您的职称申报（申报编号 {case_no}）已被日常工作部门退回，请登录系统查看退回原因。",
        ),
        _notice("case.accepted", "您的职称申报（申报编号 {case_no}）已通过日常工作部门预受理。"),
        _notice(
            "case.not_accepted",
            "您的职称申报（申报编号 {case_no}）未获日常工作部门受理，业务已办结。",
        ),
        _notice("case.pre_approved", "您的职称申报（申报编号 {case_no}）已通过专技处前置审批。"),
        _notice(
            "case.pre_approval_denied",
            "您的职称申报（申报编号 {case_no}）未通过专技处前置审批，业务已办结。",
        ),
        _notice(
            "case.pre_publicity_failed",
            "您的评前公示（申报编号 {case_no}）未通过，业务已办结。",
        ),
        _notice(
            "case.review_passed",
            "您的职称申报（申报编号 {case_no}）已通过评委会评审，将进行评后公示。",
        ),
        _notice(
            "case.review_failed",
            "您的职称申报（申报编号 {case_no}）未通过评委会评审，业务已办结。",
        ),
        _notice(
            "case.confirmed_passed",
            "您的职称评审结果（申报编号 {case_no}）已确认通过，业务已办结。",
        ),
        _notice(
            "case.post_publicity_failed",
            "您的评后公示（申报编号 {case_no}）未通过，业务已办结。",
        ),
        _notice(
            "certificate.revoked",
            "您的职称电子证书（申报编号 {case_no}）已被撤销，请登录系统查看原因。",
        ),
        _notice(
            "discredit.recorded",
            "您已被记入职称申报失信记录（申报编号 {case_no}），记录期内不得申报职称，"
            "请登录系统查看。",
        ),
        _notice(
            "discredit.ended",
            "您的职称申报失信记录（申报编号 {case_no}）已终止，可以重新申报职称。",
        ),
        Template(
            "objection.upheld",
            "短信通知",
            "您提交的职称评后公示异议经核实成立，感谢您的监督。",
            (),
        ),
        Template(
            "objection.dismissed",
            "短信通知",
            "您提交的职称评后公示异议经核实不成立。如有疑问，请向公示所列日常工作部门咨询。",
            (),
        ),
        _notice(
            "case.notice",
            "您的职称申报（申报编号 {case_no}）有新的办理结果，请登录系统查看。",
        ),
    )
}

# The notice texts of the cases service (APPLICANT_NOTICES) -> their template. A notice not
# listed here (a text changed there, say) still goes out, as the general `case.notice`;
# tests/unit/test_sms_templates.py fails when one of the cases service's texts is missing.
NOTICE_TEMPLATES: dict[str, str] = {
    "您的职称申报未通过单位审核，请查看原因，修改后重新上报。": "case.unit_rejected",
    "您的职称申报已被日常工作部门退回，请查看退回原因。": "case.returned",
    "您的职称申报已通过日常工作部门预受理。": "case.accepted",
    "您的职称申报未获日常工作部门受理，业务已办结。": "case.not_accepted",
    "您的职称申报已通过专技处前置审批。": "case.pre_approved",
    "您的职称申报未通过专技处前置审批，业务已办结。": "case.pre_approval_denied",
    "您的评前公示未通过，业务已办结。": "case.pre_publicity_failed",
    "您的职称申报已通过评委会评审，将进行评后公示。": "case.review_passed",
    "您的职称申报未通过评委会评审，业务已办结。": "case.review_failed",
    "您的职称评审结果已确认通过，业务已办结。": "case.confirmed_passed",
    "您的评后公示未通过，业务已办结。": "case.post_publicity_failed",
    # the integrity notices (services/cases/domain/integrity.py INTEGRITY_NOTICES)
    "您的职称电子证书已被撤销，请登录系统查看原因。": "certificate.revoked",
    "您已被记入职称申报失信记录，记录期内不得申报职称，请登录系统查看。": "discredit.recorded",
    "您的职称申报失信记录已终止，可以重新申报职称。": "discredit.ended",
}


def notice_template(notice: str, case_no: str | None, case_id: str) -> tuple[str, dict[str, str]]:
    """The template key and parameters of a case notice."""
    number = case_no or re.sub(r"[^0-9A-Za-z]", "", case_id)[:20]
    return NOTICE_TEMPLATES.get(notice, "case.notice"), {"case_no": number}


@lru_cache
def signature() -> str:
    from services.notify.settings import NotifySettings

    return f"【{NotifySettings().sms_sign_name}】"


def render(template: str, **params) -> str:
    """The SMS as the person reads it: the signature, then the template filled in."""
    return signature() + TEMPLATES[template].fill({k: str(v) for k, v in params.items()})


def redact(body: str, code: str) -> str:
    """The body as kept once the code is of no more use to anyone."""
    return body.replace(code, "*" * len(code))
