"""Checking the applicant's materials, section by section. Pure: no I/O.

The sections' shapes, the scan categories and `missing_parts` are the contract's
(shared/contracts/cases/materials.py): the applicant's pages show them too.
"""

from typing import Any

from pydantic import BaseModel, ValidationError

from shared.contracts.cases.materials import (
    EXEMPTIONS_NEEDING_PRE_APPROVAL,
    SECTION_MODELS,
    Section,
)


class SectionInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def check_section(section: str, data: dict[str, Any]) -> dict[str, Any]:
    """The section's data, cleaned; SectionInvalid with a Chinese message per field."""
    model = SECTION_MODELS.get(section)
    if model is None:
        raise SectionInvalid({"section": f"未知的材料部分：{section}"})
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as error:
        raise SectionInvalid(_messages(model, error)) from None


def _messages(model: type[Section], error: ValidationError) -> dict[str, str]:
    errors = {}
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        key = ".".join(loc) or "section"
        title = _title(model, loc)
        if item["type"] == "value_error":
            message = str(item["ctx"]["error"])
        elif item["type"] in ("string_too_long", "too_long"):
            message = f"{title}过长"
        elif item["type"] == "string_pattern_mismatch":
            message = f"{title}格式应为YYYY-MM"
        elif item["type"].startswith(("date", "int")):
            message = f"{title}格式不正确"
        elif item["type"] == "extra_forbidden":
            message = f"不认识的字段：{loc[-1]}"
        elif item["type"] in ("greater_than_equal", "less_than_equal"):
            message = f"{title}超出范围"
        else:
            message = f"{title}填写有误"
        errors.setdefault(key, message)
    return errors


def _title(model: type[BaseModel], loc: list[str]) -> str:
    fields = model.model_fields
    for part in loc:
        if part in fields and fields[part].title:
            return fields[part].title
    return loc[-1] if loc else "内容"


def needs_pre_approval(review_type_needs: bool, exemptions: list[str]) -> bool:
    return review_type_needs or any(e in EXEMPTIONS_NEEDING_PRE_APPROVAL for e in exemptions)
