"""Settings of the cases service (environment variables, prefix ZC_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.cases.domain.scans import MB, ScanLimits


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

    def scan_limits(self) -> ScanLimits:
        return ScanLimits(
            files_per_category=self.scan_files_per_category,
            bytes_per_category=self.scan_mb_per_category * MB,
            files_per_case=self.scan_files_per_case,
            bytes_per_case=self.scan_mb_per_case * MB,
        )
