"""The pages of docs/ that are generated from the code say what the code does."""

from tools.domain_doc import BLOCKS, DOC, block, current


def test_the_domain_pages_tables_are_the_state_machines():
    text = DOC.read_text(encoding="utf-8")
    for name in BLOCKS:
        assert current(text, name) == block(name), (
            f"docs/domain.md's {name} table is out of date: run python -m tools.domain_doc --write"
        )
