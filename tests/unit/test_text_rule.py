"""The input rule (shared/text.py): control characters, CRLF, NFC, lengths, paths."""

import unicodedata

import pytest

from shared.text import (
    CONTROLS,
    DEFAULT_LIMIT,
    ENVELOPES,
    LIMITS,
    SECRETS,
    InputRefused,
    TextRefused,
    check_key,
    check_text,
    clean_fields,
    clean_tree,
    field_name,
    like_pattern,
)

C0_C1 = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]


def refusal(field: str, value: str) -> str:
    with pytest.raises(TextRefused) as caught:
        check_text(field, value)
    return caught.value.message


def test_the_refused_controls_are_the_65_c0_c1_code_points_but_tab_and_newline():
    assert len(C0_C1) == 65
    assert {ord(c) for c in CONTROLS} == set(C0_C1) - {0x09, 0x0A}


@pytest.mark.parametrize("code", [c for c in C0_C1 if c not in (0x09, 0x0A)], ids=hex)
def test_each_control_character_is_refused_wherever_it_stands(code):
    ch = chr(code)
    for value in (ch, f"张{ch}三", f"abc{ch}", f"{ch}abc"):
        assert refusal("reason", value) == "不能包含控制字符"


@pytest.mark.parametrize("code", [c for c in C0_C1 if c not in (0x09, 0x0A)], ids=hex)
def test_each_control_character_is_refused_in_a_password_too(code):
    assert refusal("password", f"Zc7Shenpi{chr(code)}") == "不能包含控制字符"


def test_tab_and_newline_are_kept():
    assert check_text("reason", "第一行\n\t第二行") == "第一行\n\t第二行"


def test_crlf_from_a_textarea_becomes_lf_and_a_lone_cr_is_refused():
    assert check_text("reason", "第一行\r\n第二行\r\n") == "第一行\n第二行\n"
    assert refusal("reason", "第一行\r第二行") == "不能包含控制字符"
    assert refusal("reason", "a\r\r\nb") == "不能包含控制字符"


def test_text_is_put_into_nfc():
    decomposed = "Zhe\u0301ng Ha\u0300n"  # e + combining acute, a + combining grave
    kept = check_text("school", decomposed)
    assert kept == "Zhéng Hàn" == unicodedata.normalize("NFC", decomposed)
    assert len(kept) < len(decomposed)


def test_cjk_compatibility_ideographs_become_their_unified_forms():
    assert check_text("major", "\uf900") == "\u8c48"  # NFC maps it (a canonical singleton)


def test_a_password_is_never_changed():
    decomposed = "Passe\u0301w0rd"
    assert check_text("password", decomposed) == decomposed
    assert refusal("new_password", "Ab1\r\ncd") == "不能包含控制字符"


def test_lone_surrogates_are_refused():
    assert refusal("name", "张\ud800三") == "包含无效字符"
    assert refusal("password", "\udfff") == "包含无效字符"


@pytest.mark.parametrize(
    ("field", "limit"),
    [("admin_name", 50), ("name", 100), ("reason", 2000), ("note", 500), ("school", 200)],
)
def test_each_field_has_its_length_counted_in_characters(field, limit):
    assert check_text(field, "字" * limit) == "字" * limit
    assert refusal(field, "字" * (limit + 1)) == f"不能超过 {limit} 个字"


def test_a_field_not_in_the_table_has_the_default_limit():
    assert "major" not in LIMITS
    assert check_text("major", "x" * DEFAULT_LIMIT)
    assert refusal("major", "x" * (DEFAULT_LIMIT + 1)) == f"不能超过 {DEFAULT_LIMIT} 个字"


def test_the_limits_are_the_issues_names_short_texts_and_reasons():
    assert LIMITS["admin_name"] == LIMITS["applicant_name"] == 50
    assert DEFAULT_LIMIT == 200
    for field in ("reason", "feedback", "evaluation", "continuing_education_opinion"):
        assert LIMITS[field] == 2000


def test_length_is_counted_after_crlf_and_nfc():
    assert check_text("admin_name", "e\u0301" * 50) == "é" * 50
    assert check_text("reason", "a\r\n" * 1000) == "a\n" * 1000


def test_a_27000_character_reason_is_refused():
    assert refusal("reason", "原" * 27_000) == "不能超过 2000 个字"


def test_secrets_are_the_password_fields():
    assert SECRETS == {
        "password",
        "password_confirm",
        "old_password",
        "new_password",
        "new_password_confirm",
    }


def test_a_field_is_named_by_the_last_part_of_its_path_that_is_not_a_number():
    assert field_name(["data", "entries", 0, "title"]) == "title"
    assert field_name(["data", "hours_by_year", "2024"]) == "hours_by_year"
    assert field_name(["inputs", "annual_assessments", "2021"]) == "annual_assessments"
    assert field_name(["case_ids", 3]) == "case_ids"


def test_a_tree_is_cleaned_and_every_refused_text_named_by_its_path():
    tree = {
        "case_id": "c1",
        "inputs": {"reason": "原因\r\n第二行", "evaluation": "好\x1b[31m"},
        "data": {"entries": [{"title": "题目"}, {"title": "x" * 201}]},
        "list": ["ok", "bad\x00"],
        "number": 3,
        "flag": True,
        "none": None,
    }
    with pytest.raises(InputRefused) as caught:
        clean_tree(tree, ENVELOPES)
    assert caught.value.fields == {
        "evaluation": "不能包含控制字符",  # inputs.evaluation, named as the form names it
        "entries.1.title": "不能超过 200 个字",  # data.entries.1.title
        "list.1": "不能包含控制字符",
    }
    del tree["inputs"]["evaluation"], tree["data"]["entries"][1], tree["list"][1]
    cleaned = clean_tree(tree, ENVELOPES)
    assert cleaned["inputs"]["reason"] == "原因\n第二行"
    assert cleaned["number"] == 3 and cleaned["flag"] is True and cleaned["none"] is None


def test_without_envelopes_a_path_is_named_in_full():
    with pytest.raises(InputRefused) as caught:
        clean_tree({"inputs": {"reason": "\x00"}})
    assert caught.value.fields == {"inputs.reason": "不能包含控制字符"}


def test_a_key_with_a_control_character_is_refused_and_shown_visibly():
    with pytest.raises(InputRefused) as caught:
        clean_tree({"hours_by_year": {"20\x0024": 1}})
    assert caught.value.fields == {"hours_by_year.20\\x0024": "不能包含控制字符"}
    with pytest.raises(TextRefused):
        check_key("a\x85")


def test_a_flat_set_of_fields_keeps_refused_values_and_names_them():
    cleaned, problems = clean_fields({"name": "张三\x7f", "email": "a@b.cn", "note": "a\r\nb"})
    assert problems == {"name": "不能包含控制字符"}
    assert cleaned == {"name": "张三\x7f", "email": "a@b.cn", "note": "a\nb"}


@pytest.mark.parametrize(
    ("typed", "pattern"),
    [
        ("%", "%\\%%"),
        ("_", "%\\_%"),
        ("a\\b", "%a\\\\b%"),
        ("张三", "%张三%"),
        ("5%_x", "%5\\%\\_x%"),
    ],
)
def test_like_patterns_make_wildcards_match_themselves(typed, pattern):
    assert like_pattern(typed) == pattern
