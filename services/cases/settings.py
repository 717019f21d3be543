"""Settings of the cases service (environment variables, prefix ZC_): the committee rules'
numbers that are local practice rather than national law (COMMITTEE.md, docs/committee.md)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.cases.domain.committee import SizeRules


class CasesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZC_", extra="ignore")

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

    def size_rules(self) -> SizeRules:
        return SizeRules(
            senior_by_series=self.committee_min_senior_by_series,
            senior_by_speciality=self.committee_min_senior_by_speciality,
            intermediate_by_series=self.committee_min_intermediate_by_series,
            intermediate_by_speciality=self.committee_min_intermediate_by_speciality,
            junior=self.committee_min_junior,
            reserve_ratio=self.committee_reserve_ratio,
        )
