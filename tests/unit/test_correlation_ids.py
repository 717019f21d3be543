"""Request and correlation ids: unique in a process and across processes, forked ones too."""

import os

from shared.correlation import accepted, new_id, new_request_id


def test_ids_are_32_hex_characters_and_never_repeat_in_a_process():
    ids = [new_id() for _ in range(10_000)] + [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert accepted(ids[0]) == ids[0]  # a caller may send one back


def test_a_forked_child_makes_ids_of_its_own():
    read, write = os.pipe()
    before = new_id()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then gone
        os.write(write, new_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    mine = new_id()
    assert child[:20] != mine[:20] and child != before and child != mine
