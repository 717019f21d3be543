"""The owner's half of an export (shared/exports.build), its pipeline alone: chunks in, the
zip out in parts, in order, whatever the chunks' timing; a failure midway ends the build with
its error and leaves no thread or half-written zip behind. The documents service's side is a
recorder of the parts here (its own tests, and the end-to-end exports, run the real one)."""

import asyncio
import hashlib
import io
import random
import threading
import uuid

import openpyxl
import pytest

from shared import exports
from shared.contracts.documents.rpc import EXPORTS_PART, EXPORTS_PROGRESS
from shared.contracts.exports import BuildExport
from shared.rpc import Actor, CallContext
from shared.xlsx import Column

COLUMNS = [Column("编号"), Column("姓名"), Column("人数", "number")]


class Documents:
    """What documents is told: the parts by number and the progress reports."""

    def __init__(self) -> None:
        self.parts: dict[int, bytes] = {}
        self.progress: list[int] = []

    async def invoke(self, method, params: dict, actor=None, attachment=None) -> dict:
        await asyncio.sleep(0)  # an answer comes later, as over the broker
        if method == EXPORTS_PART:
            self.parts[params["seq"]] = attachment
        elif method == EXPORTS_PROGRESS:
            self.progress.append(params["rows"])
        return {"ok": True}


def context() -> CallContext:
    return CallContext("cases", None, Actor(role="sysadmin", user_id=str(uuid.uuid4())), None)


def params() -> BuildExport:
    return BuildExport(list="work", filters={}, job_id=uuid.uuid4(), attempt=1)


def source_of(chunks: list[list[tuple]], fail_after: int | None = None) -> exports.Source:
    async def given():
        for n, chunk in enumerate(chunks):
            if fail_after is not None and n == fail_after:
                raise RuntimeError("the list's reading failed")
            await asyncio.sleep(random.random() / 1000)
            yield chunk

    return exports.Source(
        title="名单", columns=COLUMNS, sql="", args=(), convert=lambda r: r, chunks=given
    )


def rows(count: int, start: int = 0) -> list[tuple]:
    rng = random.Random(start)
    return [(f"{i:08d}", "".join(rng.choice("张王李赵钱孙") for _ in range(3)), i) for i in
            range(start, start + count)]  # fmt: skip


async def test_the_parts_come_in_order_and_make_the_whole_file(monkeypatch):
    monkeypatch.setattr(exports, "PART_BYTES", 4096)  # many parts from a small file
    chunks = [rows(700, at) for at in range(0, 7000, 700)]
    documents = Documents()
    built = await exports.build(context(), params(), source_of(chunks), documents)
    content = b"".join(documents.parts[n] for n in range(len(documents.parts)))
    assert built["parts"] == len(documents.parts) > 10 and built["rows"] == 7000
    assert built["size_bytes"] == len(content)
    assert built["sha256"] == hashlib.sha256(content).hexdigest()
    assert documents.progress[-1] == 7000 and documents.progress == sorted(documents.progress)
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    read = list(book.worksheets[0].iter_rows(values_only=True))
    assert read[0] == ("编号", "姓名", "人数")
    assert read[1:] == [row for chunk in chunks for row in chunk]


async def test_a_failure_midway_ends_the_build_with_its_error_and_leaves_nothing_running(
    monkeypatch,
):
    monkeypatch.setattr(exports, "PART_BYTES", 4096)
    threads = threading.active_count()
    documents = Documents()
    chunks = [rows(500, at) for at in range(0, 5000, 500)]
    with pytest.raises(RuntimeError, match="reading failed"):
        await exports.build(context(), params(), source_of(chunks, fail_after=6), documents)
    # parts that left before (deflate holds back its output, so often none) are an attempt
    # that failed: documents deletes them (its own tests)
    assert sorted(documents.parts) == list(range(len(documents.parts)))
    for _ in range(50):  # to_thread's pool may keep its idle workers; the sheet's thread ends
        if not any(t.name == "export-zip" for t in threading.enumerate()):
            break
        await asyncio.sleep(0.01)
    assert not any(t.name == "export-zip" for t in threading.enumerate())
    assert threading.active_count() <= threads + 8


async def test_a_conversion_that_fails_ends_the_build_with_its_error():
    def convert(row):
        if row[2] == 3333:
            raise ValueError("a row that does not convert")
        return row

    source = source_of([rows(1000, at) for at in range(0, 6000, 1000)])
    source.convert = convert
    with pytest.raises(ValueError, match="does not convert"):
        await exports.build(context(), params(), source, Documents())
