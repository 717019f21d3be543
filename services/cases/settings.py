"""Settings of the cases service (environment variables, prefix ZC_): scan limits, the
committee rules' numbers that are local practice rather than national law (COMMITTEE.md,
docs/committee.md), and the length of a 失信 record (docs/integrity.md)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.cases.domain.committee import SizeRules
from services.cases.domain.scans import MB, ScanLimits
from shared.contracts.cases.integrity import DEFAULT_DISCREDIT_YEARS, MAX_DISCREDIT_YEARS


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
