"""Settings of the cases service (environment variables, prefix ZC_): scan limits, the
committee rules' numbers that are local practice rather than national law (COMMITTEE.md,
docs/committee.md), the length of a 失信 record (docs/integrity.md), and the step time limits,
their reminders and the holiday warning (docs/reports.md "Deadlines and reminders")."""

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.cases.domain.committee import SizeRules
from services.cases.domain.deadlines import LIMITABLE, StepLimits
from services.cases.domain.scans import MB, ScanLimits
from shared.contracts.cases.integrity import DEFAULT_DISCREDIT_YEARS, MAX_DISCREDIT_YEARS
from shared.contracts.cases.vocabulary import CaseState

# Local practice, not national law: what a unit or an office usually takes for each step.
DEFAULT_STEP_LIMITS = {
    "unit_review": 10,
    "dept_acceptance": 5,
    "office_approval": 5,
    "dept_review": 10,
    "dept_confirm": 5,
}


class CasesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

    # Scans (扫描件) per section and per case, files not removed. A file is at most 10 MB
    # (the documents service), a scanned page 0.2-1 MB, a phone photo 2-4 MB.
    scan_files_per_category: int = Field(
        20,
        ge=1,
        description="Scans one section (身份证, 学历证书, …) holds. One document per file is the"
        " norm (an ID card's two sides, each paper or award); 20 leaves room for a long"
        " 业绩证明 photographed page by page.",
    )
    scan_mb_per_category: int = Field(
        50,
        ge=1,
        description="MB of scans one section holds: five files at the 10 MB per-file maximum,"
        " or 20 phone photos; more is a mistake or abuse.",
    )
    scan_files_per_case: int = Field(
        100,
        ge=1,
        description="Scans one case holds: five full sections today, and still a cap if"
        " sections are added.",
    )
    scan_mb_per_case: int = Field(
        200,
        ge=1,
        description="MB of scans one case holds: below the five sections' 250 MB, so this is"
        " what one case can cost the database at most; some 200 scanned pages.",
    )

    # The least members of a review meeting; 高级 is the national rule, the rest local practice.
    committee_min_senior_by_series: int = Field(
        25, ge=1, description="Least members of a 高级 meeting of a committee by series."
    )
    committee_min_senior_by_speciality: int = Field(
        11, ge=1, description="Least members of a 高级 meeting of a committee by speciality."
    )
    committee_min_intermediate_by_series: int = Field(
        15, ge=1, description="Least members of a 中级 meeting of a committee by series."
    )
    committee_min_intermediate_by_speciality: int = Field(
        7, ge=1, description="Least members of a 中级 meeting of a committee by speciality."
    )
    committee_min_junior: int = Field(7, ge=1, description="Least members of a 初级 meeting.")
    committee_reserve_ratio: int = Field(
        2, ge=1, le=5, description="Experts drawn per seat (2: one member and one reserve)."
    )

    discredit_years: int = Field(
        DEFAULT_DISCREDIT_YEARS,
        ge=1,
        le=MAX_DISCREDIT_YEARS,
        description="Years a 失信 entry bars its ID number from declaring, unless the department"
        " gives another length: three, the 记录期限 of the national rules on 职称评审 fraud.",
    )

    # Working days a case may wait in a step before it is 超期; states not named have no limit.
    step_limits: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_STEP_LIMITS),
        description="Working days per waiting state (a CaseState value), as JSON:"
        ' {"unit_review": 10, "dept_acceptance": 5}. 超期 from the day after the last one.',
    )
    deadline_reminder_days: int = Field(
        1,
        ge=0,
        le=10,
        description="Working days left (besides the last day) from which a case gets its daily"
        " reminder SMS: 1 reminds on the day before the last day and on the last day.",
    )
    deadline_reminder_hour: int = Field(
        9, ge=0, le=23, description="Hour (Shenzhen) from which the day's reminders go out."
    )
    deadline_sweep_seconds: float = Field(
        600.0, gt=0, description="Seconds between two runs of the reminders' sweep."
    )
    deadline_reminder_batch: int = Field(
        1000,
        ge=1,
        description="Cases one run of the sweep reminds at most; the next run takes the rest.",
    )
    holiday_warning_from: str = Field(
        "11-01",
        description="MM-DD from which the sysadmin is warned that next year's holidays are"
        " missing (the State Council's notice usually comes out in October to December).",
    )

    @field_validator("step_limits")
    @classmethod
    def _known_states(cls, limits: dict[str, int]) -> dict[str, int]:
        known = {s.value for s in LIMITABLE}
        for state, days in limits.items():
            if state not in known:
                raise ValueError(f"{state} is not a waiting state ({', '.join(sorted(known))})")
            if not 1 <= days <= 365:
                raise ValueError(f"the time limit of {state} must be 1 to 365 working days")
        return limits

    @field_validator("holiday_warning_from")
    @classmethod
    def _month_day(cls, text: str) -> str:
        found = re.fullmatch(r"(\d{2})-(\d{2})", text)
        if not found or not (1 <= int(found[1]) <= 12 and 1 <= int(found[2]) <= 31):
            raise ValueError("holiday_warning_from must be MM-DD, e.g. 11-01")
        return text

    def limits(self) -> StepLimits:
        days = {CaseState(state): n for state, n in self.step_limits.items()}
        return StepLimits(days, self.deadline_reminder_days)

    def warn_from(self) -> tuple[int, int]:
        month, day = self.holiday_warning_from.split("-")
        return int(month), int(day)

    def scan_limits(self) -> ScanLimits:
        return ScanLimits(
            files_per_category=self.scan_files_per_category,
            bytes_per_category=self.scan_mb_per_category * MB,
            files_per_case=self.scan_files_per_case,
            bytes_per_case=self.scan_mb_per_case * MB,
        )

    def size_rules(self) -> SizeRules:
        return SizeRules(
            senior_by_series=self.committee_min_senior_by_series,
            senior_by_speciality=self.committee_min_senior_by_speciality,
            intermediate_by_series=self.committee_min_intermediate_by_series,
            intermediate_by_speciality=self.committee_min_intermediate_by_speciality,
            junior=self.committee_min_junior,
            reserve_ratio=self.committee_reserve_ratio,
        )
