"""How a render worker hands what came of a task back to the service: through a file."""

import os
import subprocess

import pytest

from services.documents.render import pool, worker


def answer(value, time_limit=None):
    return {"value": value, "time_limit": time_limit}


def fail_with(error, time_limit=None):
    raise error


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("cannot travel")
        self.handle = lambda: None  # a lambda does not pickle


def test_a_result_comes_back_whole_and_its_file_is_removed(tmp_path):
    path = worker.run_task(str(tmp_path), answer, (b"%PDF" * 100_000,), 7.5)
    assert len(path) < 200  # what crosses the executor's pipe is short
    assert worker.take_outcome(path) == {"value": b"%PDF" * 100_000, "time_limit": 7.5}
    assert os.listdir(tmp_path) == []


def test_an_exception_comes_back_as_itself_with_the_workers_traceback(tmp_path):
    path = worker.run_task(str(tmp_path), fail_with, (worker.PaginationMismatch(3, 4),), 1.0)
    with pytest.raises(worker.PaginationMismatch) as raised:
        worker.take_outcome(path)
    assert (raised.value.planned, raised.value.rendered) == (3, 4)
    assert str(raised.value) == "planned 3 pages, rendered 4"
    assert "fail_with" in "".join(raised.value.__notes__)
    assert os.listdir(tmp_path) == []


def test_an_exception_that_cannot_be_pickled_comes_back_as_a_runtime_error(tmp_path):
    path = worker.run_task(str(tmp_path), fail_with, (Unpicklable(),), 1.0)
    with pytest.raises(RuntimeError, match="Unpicklable: cannot travel"):
        worker.take_outcome(path)


def test_the_workers_own_limits_come_back_as_what_they_are(tmp_path):
    for error in (worker.RenderTimeout(), MemoryError("near the limit")):
        path = worker.run_task(str(tmp_path), fail_with, (error,), 1.0)
        with pytest.raises(type(error)):
            worker.take_outcome(path)


def test_outcome_folders_of_processes_that_are_gone_are_removed(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    orphan = tmp_path / f"zc-render-{gone.pid}-abc"
    mine = tmp_path / f"zc-render-{os.getpid()}-def"
    other = tmp_path / "zc-render-notapid"
    for folder in (orphan, mine, other):
        folder.mkdir()
        (folder / "left.pickle").write_bytes(b"x")
    assert pool.remove_orphaned_outcome_folders(str(tmp_path)) == [str(orphan)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])
