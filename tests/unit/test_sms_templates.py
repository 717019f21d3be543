"""The SMS templates: every purpose of a code and every notice of the case state machine has
one, docs/sms.md lists the exact texts to submit to each provider and every error code each
adapter knows, and the texts fill in as the person will read them."""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest

from services.cases.domain.integrity import INTEGRITY_NOTICES
from services.cases.domain.model import APPLICANT_NOTICES
from services.notify import aliyun_sms, tencent_sms
from services.notify.provider_adapter import until_midnight
from services.notify.templates import NOTICE_TEMPLATES, TEMPLATES, notice_template, render
from shared.contracts.accounts.vocabulary import CodePurpose

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "sms.md").read_text(encoding="utf-8")


def section(name: str) -> str:
    return DOCS.split(f"<!-- {name}:begin -->")[1].split(f"<!-- {name}:end -->")[0]


def test_every_notice_of_the_state_machine_has_a_template_of_its_own():
    missing = sorted(set(APPLICANT_NOTICES.values()) - set(NOTICE_TEMPLATES))
    assert missing == []
    assert set(NOTICE_TEMPLATES.values()) <= set(TEMPLATES)


def test_every_integrity_notice_has_a_template_of_its_own():
    assert sorted(set(INTEGRITY_NOTICES) - set(NOTICE_TEMPLATES)) == []


def test_a_public_objector_is_told_each_finding_by_a_template_without_free_text():
    for finding in ("upheld", "dismissed"):
        assert TEMPLATES[f"objection.{finding}"].params == ()


def test_every_purpose_of_an_sms_code_has_a_template():
    for purpose in get_args(CodePurpose):
        assert TEMPLATES[f"code.{purpose}"].kind == "验证码", purpose
        assert TEMPLATES[f"code.{purpose}"].params == ("code", "minutes"), purpose


def test_a_notice_text_nobody_knows_still_goes_out_as_the_general_template():
    assert notice_template("另一条通知", "2026000007", "x") == (
        "case.notice",
        {"case_no": "2026000007"},
    )


def test_each_template_names_exactly_its_parameters_in_order():
    for template in TEMPLATES.values():
        assert tuple(re.findall(r"\{(\w+)\}", template.text)) == template.params, template.key


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_docs_list_the_exact_text_to_submit_for_every_template(provider):
    table = section("templates")
    for template in TEMPLATES.values():
        row = next(line for line in table.splitlines() if f"`{template.key}`" in line)
        assert f"| {template.kind} |" in row
        assert f"| {template.approval_text(provider)} |" in row


def test_the_approval_texts_are_in_each_providers_notation():
    code = TEMPLATES["code.register"]
    assert "${code}" in code.approval_text("aliyun") and "${minutes}" in code.approval_text(
        "aliyun"
    )
    assert "验证码 {1}，{2} 分钟" in code.approval_text("tencent")


def test_docs_list_every_error_code_under_its_class():
    errors = section("errors")
    alibaba, tencent = errors.split("Tencent Cloud (")
    for text, table in ((alibaba, aliyun_sms.REFUSALS), (tencent, tencent_sms.REFUSALS)):
        rows = {line.split("|")[1].strip(): line for line in text.splitlines() if "|" in line}
        for code, refusal in table.items():
            assert f"`{code}`" in rows[refusal.error_class], code


def test_the_text_kept_is_the_signature_and_the_template_filled_in():
    template, params = notice_template(
        APPLICANT_NOTICES[next(iter(APPLICANT_NOTICES))], "2026000123", ""
    )
    assert render(template, **params) == (
        "【深圳职称申报】您的职称申报（申报编号 2026000123）未通过单位审核，"
        "请登录系统查看原因，修改后重新上报。"
    )


def test_alibabas_business_limit_names_its_window_in_its_message():
    classify = aliyun_sms.classify
    assert classify("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1").window == "minute"
    assert classify("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5").window == "hour"
    assert classify("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10").window == "day"
    assert classify("isv.SOMETHING_NEW").error_class == "transient"


def test_tencents_unlisted_parameter_errors_are_permanent_others_transient():
    assert tencent_sms.classify("InvalidParameterValue.Whatever").error_class == "permanent"
    assert tencent_sms.classify("InternalError.Whatever").error_class == "transient"


def test_a_days_limit_lasts_until_midnight_in_shenzhen():
    # 2026-12-04 15:30 UTC is 23:30 in Shenzhen: half an hour to go.
    assert until_midnight(datetime(2026, 12, 4, 15, 30, tzinfo=UTC)) == 1800
