"""Scan limits per section and per case over RPC: cases decides, under the case row's lock;
documents asks early with the size and keeps no bytes of a scan the case refused."""

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from services.cases.app import build_service as build_cases
from services.cases.deps import CasesDeps
from services.cases.reference_seed import seed_reference
from services.cases.settings import CasesSettings
from services.documents.app import build_service as build_documents
from shared.rpc import RpcClient, RpcError
from shared.topology import Names
from tests.integration.conftest import WORKFLOW_TODAY
from tests.support.cases_driver import PNG, CasesDriver, new_unit
from tests.support.probes import wait_until
from tools.demo_data import demo_reference

KB = 1024
# small, so a few small files reach them: 3 files / 1 MB a section, 5 files / 2 MB a case
LIMITS = CasesSettings(
    scan_files_per_category=3,
    scan_mb_per_category=1,
    scan_files_per_case=5,
    scan_mb_per_case=2,
)


class LimitsDriver(CasesDriver):
    def __init__(self, client, cases_service, clock, documents_service) -> None:
        super().__init__(client, cases_service, clock)
        self.documents = documents_service

    async def stored_files(self, case_id: str) -> int:
        """The scans' bytes the documents service keeps for the case."""
        return await self.documents.pool.fetchval(
            "SELECT count(*) FROM files WHERE case_id = $1", uuid.UUID(case_id)
        )

    async def attachments(self, case_id: str) -> int:
        return await self.service.pool.fetchval(
            "SELECT count(*) FROM case_attachments WHERE case_id = $1 AND removed_at IS NULL",
            uuid.UUID(case_id),
        )


@pytest.fixture(scope="module")
async def limited(own_database):
    """cases with small scan limits + documents, on a database of this module's own (one test
    locks the documents' files table)."""
    cases_deps = CasesDeps(settings=LIMITS)
    cases = build_cases(own_database, cases_deps)
    documents = build_documents(own_database)
    for part in (cases, documents):
        await part.start()
    async with cases.pool.acquire() as conn:
        await seed_reference(conn, demo_reference())
    client = RpcClient(own_database.amqp_url, Names(own_database).rpc_queue, 10)
    await client.start()
    yield LimitsDriver(client, cases, cases_deps.clock, documents)
    await client.close()
    for part in (documents, cases):
        await part.stop()


@pytest.fixture
async def driver(limited):
    limited.clock.offset = WORKFLOW_TODAY - datetime.now(UTC)
    yield limited


def scan(kb: int) -> bytes:
    return PNG + bytes(kb * KB - len(PNG))


async def refused_upload(driver, actor, case_id: str, category: str, content: bytes) -> str:
    with pytest.raises(RpcError) as refused:
        await driver.upload(actor, case_id, category, content)
    assert refused.value.status == 422 and refused.value.code == "scan_limit"
    return refused.value.fields["file"]


async def test_a_case_shows_its_limits(driver):
    unit = new_unit()
    case = await driver.call("case.get", {"case_id": await driver.open(unit)}, unit.applicant)
    assert case["scan_limits"] == {
        "files_per_category": 3,
        "bytes_per_category": 1024 * KB,
        "files_per_case": 5,
        "bytes_per_case": 2048 * KB,
    }


async def test_a_section_takes_so_many_files(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    for _ in range(3):
        await driver.upload(unit.applicant, case_id, "id_card", PNG)
    message = await refused_upload(driver, unit.applicant, case_id, "id_card", PNG)
    assert message == "本栏目最多上传 3 个文件，已上传 3 个"
    await driver.upload(unit.applicant, case_id, "diploma", PNG)  # another section has room
    assert await driver.stored_files(case_id) == await driver.attachments(case_id) == 4


async def test_a_section_takes_so_many_megabytes(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    for _ in range(2):
        await driver.upload(unit.applicant, case_id, "achievement", scan(400))
    message = await refused_upload(driver, unit.applicant, case_id, "achievement", scan(400))
    assert message == "本栏目扫描件总大小不能超过 1 MB（已用 0.8 MB，本文件 0.4 MB）"
    await driver.upload(unit.applicant, case_id, "achievement", scan(200))  # what fits, fits
    assert await driver.stored_files(case_id) == await driver.attachments(case_id) == 3


async def test_a_case_takes_so_many_files(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    for category in ("id_card", "id_card", "id_card", "diploma", "diploma"):
        await driver.upload(unit.applicant, case_id, category, PNG)
    message = await refused_upload(driver, unit.applicant, case_id, "other", PNG)
    assert message == "本申报最多上传 5 个文件，已上传 5 个"
    assert await driver.stored_files(case_id) == 5


async def test_a_case_takes_so_many_megabytes(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    for category in ("id_card", "id_card", "diploma", "diploma"):
        await driver.upload(unit.applicant, case_id, category, scan(450))
    message = await refused_upload(driver, unit.applicant, case_id, "other", scan(300))
    assert message == "本申报扫描件总大小不能超过 2 MB（已用 1.8 MB，本文件 0.3 MB）"
    assert await driver.stored_files(case_id) == 4


async def test_removed_scans_do_not_count(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    stored = [await driver.upload(unit.applicant, case_id, "other", scan(300)) for _ in range(3)]
    await driver.call(
        "case.remove_attachment",
        {"case_id": case_id, "attachment_id": stored[0]["attachment_id"]},
        unit.applicant,
    )
    await driver.upload(unit.applicant, case_id, "other", scan(300))
    message = await refused_upload(driver, unit.applicant, case_id, "other", PNG)
    assert message == "本栏目最多上传 3 个文件，已上传 3 个"


async def test_the_early_check_takes_the_size(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    check = {"case_id": case_id, "category": "other"}
    with pytest.raises(RpcError) as refused:
        await driver.call("case.check_upload", check | {"size_bytes": 1025 * KB}, unit.applicant)
    assert refused.value.status == 422
    assert refused.value.fields["file"].startswith("本栏目扫描件总大小不能超过 1 MB")
    # a caller that does not send the size yet is still let through to case.attach
    assert (await driver.call("case.check_upload", check, unit.applicant))["case_id"] == case_id


def attachment(case_id: str, category: str) -> dict:
    return {
        "case_id": case_id,
        "category": category,
        "file_id": str(uuid.uuid4()),
        "filename": "scan.png",
        "content_type": "image/png",
        "size_bytes": 100 * KB,
        "checksum": "0" * 64,
    }


async def concurrent_attaches(driver, actor, case_id: str, categories: list[str]) -> list:
    return await asyncio.gather(
        *(driver.call("case.attach", attachment(case_id, c), actor) for c in categories),
        return_exceptions=True,
    )


async def test_concurrent_attaches_never_pass_a_sections_limit(driver):
    unit = new_unit()
    case_id = await driver.open(unit)
    results = await concurrent_attaches(driver, unit.applicant, case_id, ["diploma"] * 10)
    refused = [r for r in results if isinstance(r, RpcError)]
    assert len(refused) == 7 and {r.status for r in refused} == {422}
    assert await driver.attachments(case_id) == 3


async def test_concurrent_attaches_never_pass_a_cases_limit(driver):
    """Each section has room for two: only the lock on the case keeps the case at five."""
    unit = new_unit()
    case_id = await driver.open(unit)
    categories = ["id_card", "diploma", "current_title", "achievement", "other"] * 2
    results = await concurrent_attaches(driver, unit.applicant, case_id, categories)
    refused = [r for r in results if isinstance(r, RpcError)]
    assert len(refused) == 5
    assert {r.fields["file"] for r in refused} == {"本申报最多上传 5 个文件，已上传 5 个"}
    assert await driver.attachments(case_id) == 5


async def test_an_upload_the_case_refuses_at_attach_leaves_no_bytes(driver, own_database):
    """Three uploads pass the early check for the section's last place (held before storing
    by a lock on the documents' files table); the case takes one, documents deletes two."""
    unit = new_unit()
    case_id = await driver.open(unit)
    for _ in range(2):
        await driver.upload(unit.applicant, case_id, "diploma", PNG)
    holder = await asyncpg.connect(own_database.database_url)
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("LOCK TABLE documents.files IN EXCLUSIVE MODE")
        uploads = [
            asyncio.ensure_future(driver.upload(unit.applicant, case_id, "diploma", PNG))
            for _ in range(3)
        ]

        async def three_waiting() -> bool:
            return 3 == await holder.fetchval(
                "SELECT count(*) FROM pg_locks"
                " WHERE relation = 'documents.files'::regclass AND NOT granted"
            )

        await wait_until(three_waiting, timeout=10)
        await hold.rollback()
    finally:
        await holder.close()
    results = await asyncio.gather(*uploads, return_exceptions=True)
    refused = [r for r in results if isinstance(r, RpcError)]
    assert [r.fields["file"] for r in refused] == ["本栏目最多上传 3 个文件，已上传 3 个"] * 2
    assert await driver.stored_files(case_id) == await driver.attachments(case_id) == 3
